package io.shoalfs.s3;

import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One page of a bucket listing, as ListObjects and ListObjectsV2 answer it: the keys that
 * start with a prefix, after a marker, in S3's order, keys that contain the delimiter after the
 * prefix rolled up into common prefixes, at most max-keys of both together.
 *
 * <p>With the delimiter '/', a directory is its common prefix and is not walked at all. An
 * empty directory (made on a mount) is such a prefix too: S3 has no directories, and showing
 * the one a mount made is more useful than hiding it.
 */
final class ObjectListing {
  /** A listed object: its key and its entry (with its attributes). */
  record Listed(String key, DirEntry entry) {}

  /**
   * @param nextMarker the last key or common prefix of the page, from which the next page
   *     starts; null when the page is not truncated
   */
  record Page(List<Listed> objects, List<String> commonPrefixes, boolean truncated,
      String nextMarker) {}

  private ObjectListing() {}

  /**
   * Lists bucket directory {@code bucketDir}. {@code delimiter} and {@code after} may be null;
   * {@code maxKeys} is at least 0.
   */
  static Page list(Directories dirs, long bucketDir, String prefix, String delimiter,
      String after, int maxKeys) throws RpcException {
    List<Listed> objects = new ArrayList<>();
    List<String> prefixes = new ArrayList<>();
    String dirKey = prefix.substring(0, prefix.lastIndexOf('/') + 1);
    Optional<Long> dir = resolve(dirs, bucketDir, dirKey);
    if (dir.isEmpty() || maxKeys == 0) {
      return new Page(objects, prefixes, false, null);
    }
    boolean slash = "/".equals(delimiter);
    KeyWalk walk = new KeyWalk(dirs, dir.get(), dirKey, prefix.substring(dirKey.length()), after,
        slash);
    String lastPrefix = null;
    String last = null;
    for (KeyWalk.Item item = walk.next(); item != null; item = walk.next()) {
      String rolledUp = item.isPrefix() ? item.key() : rollUp(item.key(), prefix, delimiter);
      if (rolledUp != null) {
        if (rolledUp.equals(lastPrefix) || (after != null && after.startsWith(rolledUp))) {
          continue;
        }
        if (objects.size() + prefixes.size() == maxKeys) {
          return new Page(objects, prefixes, true, last);
        }
        prefixes.add(rolledUp);
        lastPrefix = rolledUp;
        last = rolledUp;
        continue;
      }
      if (objects.size() + prefixes.size() == maxKeys) {
        return new Page(objects, prefixes, true, last);
      }
      objects.add(new Listed(item.key(), item.entry()));
      last = item.key();
    }
    return new Page(objects, prefixes, false, null);
  }

  /** The common prefix {@code key} rolls up into, or null if it is listed as itself. */
  static String rollUp(String key, String prefix, String delimiter) {
    if (delimiter == null || delimiter.isEmpty()) {
      return null;
    }
    int at = key.indexOf(delimiter, prefix.length());
    return at < 0 ? null : key.substring(0, at + delimiter.length());
  }

  /** The directory that holds the keys starting with {@code dirKey} ("a/b/"), if there is one. */
  private static Optional<Long> resolve(Directories dirs, long bucketDir, String dirKey)
      throws RpcException {
    long dir = bucketDir;
    if (dirKey.isEmpty()) {
      return Optional.of(dir);
    }
    for (String name : dirKey.substring(0, dirKey.length() - 1).split("/", -1)) {
      if (!ObjectKeys.isValidComponent(name)) {
        return Optional.empty();
      }
      Optional<DirEntry> e = dirs.lookup(dir, name);
      if (e.isEmpty() || e.get().getType() != FileType.DIRECTORY) {
        return Optional.empty();
      }
      dir = e.get().getInode();
    }
    return Optional.of(dir);
  }
}
