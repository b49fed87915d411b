package io.shoalfs.server.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where chunk files live on disk.
 *
 * <pre>
 *   &lt;root&gt;/&lt;h[14..16]&gt;/&lt;h[12..14]&gt;/&lt;h&gt;.&lt;index&gt;.chunk   the chunk's bytes
 *   &lt;root&gt;/&lt;h[14..16]&gt;/&lt;h[12..14]&gt;/&lt;h&gt;.&lt;index&gt;.crc     4-byte big-endian CRC32C per block
 *   &lt;root&gt;/&lt;h[14..16]&gt;/&lt;h[12..14]&gt;/&lt;h&gt;.&lt;index&gt;.ver     8-byte big-endian chunk version
 *                                                          (absent = 0, unversioned)
 *   &lt;root&gt;/staging/&lt;nonce&gt;/...                       copies being pulled from a peer
 * </pre>
 *
 * where h is the inode as 16 lower-case hex digits. The two fan-out levels take the
 * <em>lowest</em> bytes of the inode: inode ids are handed out sequentially, so the high
 * bytes are zero for every file and would put them all in one directory. All chunks of one
 * inode share a directory, so finding them is one directory listing.
 */
final class ChunkLayout {
  static final String DATA_SUFFIX = ".chunk";
  static final String CHECKSUM_SUFFIX = ".crc";
  static final String VERSION_SUFFIX = ".ver";
  /** Not two hex digits, so it never collides with a fan-out directory. */
  static final String STAGING_DIR = "staging";
  private static final String[] SUFFIXES = {DATA_SUFFIX, CHECKSUM_SUFFIX, VERSION_SUFFIX};
  private static final Pattern FAN_OUT_NAME = Pattern.compile("[0-9a-f]{2}");
  private static final Comparator<ChunkKey> CHUNK_ORDER =
      Comparator.comparingLong(ChunkKey::inode).thenComparingInt(ChunkKey::index);

  private final Path root;

  ChunkLayout(Path root) {
    this.root = root;
  }

  Path root() {
    return root;
  }

  Path directoryOf(long inode) {
    String hex = hex(inode);
    return root.resolve(hex.substring(14, 16)).resolve(hex.substring(12, 14));
  }

  Path dataFile(ChunkKey key) {
    return directoryOf(key.inode()).resolve(hex(key.inode()) + "." + key.index() + DATA_SUFFIX);
  }

  Path checksumFile(ChunkKey key) {
    return directoryOf(key.inode())
        .resolve(hex(key.inode()) + "." + key.index() + CHECKSUM_SUFFIX);
  }

  Path versionFile(ChunkKey key) {
    return directoryOf(key.inode())
        .resolve(hex(key.inode()) + "." + key.index() + VERSION_SUFFIX);
  }

  Path stagingRoot() {
    return root.resolve(STAGING_DIR);
  }

  /** Indexes of the chunks of an inode that have a data, checksum or version file, ascending. */
  SortedSet<Integer> indexesOf(long inode) throws IOException {
    SortedSet<Integer> indexes = new TreeSet<>();
    Path dir = directoryOf(inode);
    if (!Files.isDirectory(dir)) {
      return indexes;
    }
    String prefix = hex(inode) + ".";
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, prefix + "*")) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        ChunkKey key = parse(name);
        if (key != null && key.inode() == inode) {
          indexes.add(key.index());
        }
      }
    }
    return indexes;
  }

  /**
   * The inner fan-out directories that exist (two levels of two hex digits; the staging area is
   * not among them): each holds the chunks of some inodes.
   */
  List<Path> chunkDirectories() throws IOException {
    List<Path> dirs = new ArrayList<>();
    for (Path outer : fanOut(root)) {
      dirs.addAll(fanOut(outer));
    }
    return dirs;
  }

  /** The chunks with a file in one inner fan-out directory, in (inode, index) order. */
  SortedSet<ChunkKey> chunksIn(Path dir) throws IOException {
    SortedSet<ChunkKey> keys = new TreeSet<>(CHUNK_ORDER);
    if (!Files.isDirectory(dir)) {
      return keys; // emptied and removed since it was listed
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        ChunkKey key = parse(file.getFileName().toString());
        if (key != null) {
          keys.add(key);
        }
      }
    }
    return keys;
  }

  /** The chunk a file name belongs to ({@code <16 hex>.<index>.<suffix>}), or null. */
  static ChunkKey parse(String name) {
    for (String suffix : SUFFIXES) {
      if (!name.endsWith(suffix)) {
        continue;
      }
      int dot = name.indexOf('.');
      int end = name.length() - suffix.length();
      if (dot != 16 || end <= dot + 1) {
        return null;
      }
      try {
        long inode = Long.parseUnsignedLong(name.substring(0, 16), 16);
        int index = Integer.parseInt(name.substring(dot + 1, end));
        return index < 0 ? null : new ChunkKey(inode, index);
      } catch (NumberFormatException notOurs) {
        return null; // a stray file that happens to look similar: not a chunk
      }
    }
    return null;
  }

  private static List<Path> fanOut(Path dir) throws IOException {
    List<Path> dirs = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return dirs;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        if (FAN_OUT_NAME.matcher(entry.getFileName().toString()).matches()
            && Files.isDirectory(entry)) {
          dirs.add(entry);
        }
      }
    }
    dirs.sort(null); // listing order is the file system's: walks go in name order
    return dirs;
  }

  /**
   * Bytes of all chunk and checksum files under the root (apparent sizes), staging area
   * excluded. Walks the tree.
   */
  long measure() throws IOException {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    Path staging = stagingRoot();
    try (Stream<Path> files = Files.walk(root)) {
      long total = 0;
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (!file.startsWith(staging) && (name.endsWith(DATA_SUFFIX) || name.endsWith(CHECKSUM_SUFFIX))
            && Files.isRegularFile(file)) {
          total += Files.size(file);
        }
      }
      return total;
    }
  }

  static String hex(long inode) {
    return String.format("%016x", inode);
  }
}
