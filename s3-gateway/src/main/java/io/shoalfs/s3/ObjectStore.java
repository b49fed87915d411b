package io.shoalfs.s3;

import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Buckets and objects as directories and files of the namespace, on the client core.
 *
 * <pre>
 *   /BUCKET/a/b/c                    the object "a/b/c" of bucket BUCKET
 *   /.shoal-s3/staging/GATEWAY-N     an object being written, renamed into place when complete
 *   /.shoal-s3/uploads/BUCKET/ID/    a multipart upload: its parts, its key in an xattr
 * </pre>
 *
 * The gateway's own directory starts with a dot, which no bucket name may, so it is never a
 * bucket, and nothing in it is ever a key: an object becomes visible, on every mount and
 * through S3, by one atomic rename. A crashed upload leaves a file under staging only.
 */
final class ObjectStore implements Directories {
  static final long ROOT = 1;
  static final String GATEWAY_DIR = ".shoal-s3";
  /** How many times a publish re-creates a key's directories that a delete removed meanwhile. */
  private static final int PUBLISH_ATTEMPTS = 5;

  /** A file being written under staging, not yet an object. */
  record Staged(String name, long inode) {}

  private final ClientCore core;
  private final String gatewayId = HexFormat.of().formatHex(new SecureRandom().generateSeed(6));
  private final AtomicLong nextStaged = new AtomicLong();
  private long staging;
  private long uploads;

  ObjectStore(ClientCore core) {
    this.core = core;
  }

  ClientCore core() {
    return core;
  }

  /** Makes the gateway's own directories if this is the cluster's first gateway. */
  void start() throws RpcException {
    long own = directory(ROOT, GATEWAY_DIR);
    staging = directory(own, "staging");
    uploads = directory(own, "uploads");
  }

  long uploadsDir() {
    return uploads;
  }

  long stagingDir() {
    return staging;
  }

  // ------------------------------------------------------------------ buckets

  /** The buckets: the root's directories whose names are bucket names, in name order. */
  List<DirEntry> buckets() throws RpcException {
    List<DirEntry> found = new ArrayList<>();
    String after = "";
    while (true) {
      ClientCore.DirPage page = core.readDir(ROOT, after, KeyWalk.PAGE, true);
      for (DirEntry e : page.entries()) {
        if (e.getType() == FileType.DIRECTORY && ObjectKeys.isValidBucket(e.getName())) {
          found.add(e);
        }
      }
      if (!page.hasMore() || page.entries().isEmpty()) {
        return found;
      }
      after = page.entries().get(page.entries().size() - 1).getName();
    }
  }

  /** The directory of bucket {@code name}; NoSuchBucket if there is none. */
  long bucket(String name) throws S3Exception, RpcException {
    if (!ObjectKeys.isValidBucket(name)) {
      throw S3Errors.noSuchBucket(name);
    }
    Optional<DirEntry> e = lookup(ROOT, name);
    if (e.isEmpty() || e.get().getType() != FileType.DIRECTORY) {
      throw S3Errors.noSuchBucket(name);
    }
    return e.get().getInode();
  }

  void createBucket(String name) throws S3Exception, RpcException {
    if (!ObjectKeys.isValidBucket(name)) {
      throw S3Errors.invalidBucketName(name);
    }
    try {
      core.makeDirectory(ROOT, name);
    } catch (RpcException e) {
      if (e.status() == Status.EEXIST) {
        throw S3Errors.bucketAlreadyOwnedByYou(name);
      }
      throw e;
    }
  }

  void deleteBucket(String name) throws S3Exception, RpcException {
    bucket(name);
    try {
      core.rmdir(ROOT, name);
    } catch (RpcException e) {
      if (e.status() == Status.ENOTEMPTY) {
        throw S3Errors.bucketNotEmpty(name);
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------ objects

  /**
   * The file of object {@code key}; NoSuchKey if there is none. A key ending in '/' is a
   * directory's, an empty object (what consoles make as a folder).
   */
  Attr object(String bucket, String key) throws S3Exception, RpcException {
    bucket(bucket);
    ObjectKeys.checkKey(key);
    Attr attr;
    try {
      attr = core.stat("/" + bucket + "/" + trimSlash(key));
    } catch (RpcException e) {
      if (e.status() == Status.ENOENT || e.status() == Status.ENOTDIR) {
        throw S3Errors.noSuchKey(key);
      }
      throw e;
    }
    boolean wantDir = ObjectKeys.isDirectoryKey(key);
    if (wantDir ? attr.getType() != FileType.DIRECTORY : attr.getType() != FileType.REGULAR) {
      throw S3Errors.noSuchKey(key);
    }
    return wantDir ? attr.toBuilder().setSize(0).build() : attr;
  }

  /** A new empty file under staging, to be written and then published or discarded. */
  Staged stage() throws RpcException {
    String name = stagedName();
    return new Staged(name, core.createFile(staging, name).getInode());
  }

  /** A staged file with no chunk placed, for chunks to be moved into (multipart completion). */
  Staged stageWithoutChunks() throws RpcException {
    String name = stagedName();
    return new Staged(name, core.createFileWithoutChunks(staging, name).getInode());
  }

  private String stagedName() {
    return gatewayId + "-" + nextStaged.incrementAndGet();
  }

  /** Makes the staged file object {@code key} of the bucket, atomically replacing any other. */
  void publish(Staged staged, long bucket, String key) throws S3Exception, RpcException {
    String name = lastName(key);
    for (int attempt = 1; ; attempt++) {
      long parent = parents(bucket, key);
      try {
        core.rename(staging, staged.name(), parent, name);
        return;
      } catch (RpcException e) {
        // The key's directory went away between making it and the rename: a delete of the
        // last object under it pruned it. Make it again.
        if (e.status() != Status.ENOENT || attempt == PUBLISH_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  /** Removes a staged file that will not be published; a failure is left for the operator. */
  void discard(Staged staged) {
    try {
      core.unlink(staging, staged.name());
    } catch (RpcException e) {
      // The file stays under staging, where nothing lists it.
    }
  }

  /** Makes directory key {@code key} ("a/b/"), and its parents. */
  void makeDirectoryKey(long bucket, String key) throws S3Exception, RpcException {
    long parent = parents(bucket, trimSlash(key));
    directory(parent, lastName(trimSlash(key)));
  }

  /**
   * Deletes object {@code key} (nothing if there is none, as S3 answers), then the
   * directories it leaves empty, up to the bucket: S3 has no directories, and an empty one
   * would still be listed as a common prefix.
   */
  void delete(long bucket, String key) throws S3Exception, RpcException {
    ObjectKeys.checkKey(key);
    String path = trimSlash(key);
    List<Long> dirs = new ArrayList<>();
    dirs.add(bucket);
    String[] parts = path.split("/");
    for (int i = 0; i < parts.length - 1; i++) {
      Optional<DirEntry> e = lookup(dirs.get(dirs.size() - 1), parts[i]);
      if (e.isEmpty() || e.get().getType() != FileType.DIRECTORY) {
        return;
      }
      dirs.add(e.get().getInode());
    }
    String name = parts[parts.length - 1];
    Optional<DirEntry> target = lookup(dirs.get(dirs.size() - 1), name);
    if (target.isEmpty()) {
      return;
    }
    boolean isDir = target.get().getType() == FileType.DIRECTORY;
    if (isDir != ObjectKeys.isDirectoryKey(key)) {
      return; // "a" asked and "a/" is there (or the other way round): no such object
    }
    try {
      if (isDir) {
        core.rmdir(dirs.get(dirs.size() - 1), name);
      } else {
        core.unlink(dirs.get(dirs.size() - 1), name);
      }
    } catch (RpcException e) {
      if (e.status() == Status.ENOENT) {
        return;
      }
      if (e.status() == Status.ENOTEMPTY) {
        return; // a directory key with objects below: those objects stay, and so does it
      }
      throw e;
    }
    for (int i = parts.length - 2; i >= 0; i--) {
      try {
        core.rmdir(dirs.get(i), parts[i]);
      } catch (RpcException e) {
        return; // not empty (or gone): the ones above are not empty either
      }
    }
  }

  /** The directory that holds {@code key}'s file, made with its parents if need be. */
  long parents(long bucket, String key) throws S3Exception, RpcException {
    ObjectKeys.checkKey(key);
    String[] parts = trimSlash(key).split("/");
    long dir = bucket;
    for (int i = 0; i < parts.length - 1; i++) {
      dir = directory(dir, parts[i]);
    }
    return dir;
  }

  /** Directory {@code name} of {@code parent}, made if it does not exist. */
  long directory(long parent, String name) throws RpcException {
    for (int attempt = 0; ; attempt++) {
      Optional<DirEntry> e = lookup(parent, name);
      if (e.isPresent()) {
        if (e.get().getType() != FileType.DIRECTORY) {
          throw new RpcException(Status.ENOTDIR, name + " is a file, not a directory");
        }
        return e.get().getInode();
      }
      try {
        return core.makeDirectory(parent, name).getInode();
      } catch (RpcException made) {
        if (made.status() != Status.EEXIST || attempt > 2) {
          throw made;
        }
        // Someone made it meanwhile (or made and removed it): look again.
      }
    }
  }

  /** The ETag of a file, as GET answers it (without its other metadata). */
  String etag(Attr attr) throws RpcException {
    if (attr.getType() != FileType.REGULAR) {
      return ObjectHandler.EMPTY_MD5;
    }
    Optional<byte[]> stored;
    try {
      stored = core.getXattr(attr.getInode(), ObjectMetadata.ETAG);
    } catch (RpcException e) {
      if (e.status() != Status.ENOENT) {
        throw e;
      }
      stored = Optional.empty(); // deleted since it was listed
    }
    String valid = stored.isEmpty() ? null
        : ObjectMetadata.validEtag(new String(stored.get(), StandardCharsets.UTF_8), attr);
    return valid != null ? valid : ObjectMetadata.derivedEtag(attr);
  }

  // ------------------------------------------------------------------ Directories

  @Override
  public ClientCore.DirPage list(long dir, String after, int limit) throws RpcException {
    return core.readDir(dir, after, limit, true);
  }

  @Override
  public Optional<DirEntry> lookup(long dir, String name) throws RpcException {
    try {
      Attr a = core.lookup(dir, name);
      return Optional.of(DirEntry.newBuilder().setName(name).setInode(a.getInode())
          .setType(a.getType()).setAttr(a).build());
    } catch (RpcException e) {
      if (e.status() == Status.ENOENT) {
        return Optional.empty();
      }
      throw e;
    }
  }

  static String lastName(String key) {
    String path = trimSlash(key);
    return path.substring(path.lastIndexOf('/') + 1);
  }

  static String trimSlash(String key) {
    return key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
  }
}
