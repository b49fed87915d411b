package io.shoalfs.server.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Where chunk files live on disk.
 *
 * <pre>
 *   &lt;root&gt;/&lt;h[14..16]&gt;/&lt;h[12..14]&gt;/&lt;h&gt;.&lt;index&gt;.chunk   the chunk's bytes
 *   &lt;root&gt;/&lt;h[14..16]&gt;/&lt;h[12..14]&gt;/&lt;h&gt;.&lt;index&gt;.crc     4-byte big-endian CRC32C per block
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

  /** Indexes of the chunks of an inode that have a data or a checksum file, ascending. */
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
        String rest;
        if (name.endsWith(DATA_SUFFIX)) {
          rest = name.substring(prefix.length(), name.length() - DATA_SUFFIX.length());
        } else if (name.endsWith(CHECKSUM_SUFFIX)) {
          rest = name.substring(prefix.length(), name.length() - CHECKSUM_SUFFIX.length());
        } else {
          continue;
        }
        try {
          indexes.add(Integer.parseInt(rest));
        } catch (NumberFormatException notOurs) {
          // A stray file that happens to share the prefix: not a chunk.
        }
      }
    }
    return indexes;
  }

  /** Bytes of all chunk and checksum files under the root (apparent sizes). Walks the tree. */
  long measure() throws IOException {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(root)) {
      long total = 0;
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if ((name.endsWith(DATA_SUFFIX) || name.endsWith(CHECKSUM_SUFFIX))
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
