package io.shoalfs.client;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Files removed while open on this mount. libfuse's high-level API keeps such a file reachable by
 * renaming it to ".fuse_hiddenNNNN" in its directory, and unlinks that name at the last close.
 * Linux shows no such name: ShoalFS instead removes the entry for real (the metadata keeps the
 * inode, with nlink 0, as an orphan of this mount) and answers libfuse's later calls on the
 * hidden path from this table: the path names the inode until libfuse unlinks it.
 */
final class HiddenFiles {
  /** libfuse's hidden_name(): ".fuse_hidden%08x%08x". */
  private static final java.util.regex.Pattern HIDDEN =
      java.util.regex.Pattern.compile("\\.fuse_hidden[0-9a-f]{16}");

  private final Map<String, Long> byPath = new ConcurrentHashMap<>();

  /** True for the names libfuse gives the files it hides. */
  static boolean isHiddenName(String path) {
    return HIDDEN.matcher(FusePath.of(path).name()).matches();
  }

  void hide(String path, long inode) {
    byPath.put(path, inode);
  }

  /** The inode a hidden path stands for, or null. */
  Long inode(String path) {
    return byPath.isEmpty() ? null : byPath.get(path);
  }

  /** Forgets a hidden path (libfuse unlinks it at the last close); its inode, or null. */
  Long remove(String path) {
    return byPath.remove(path);
  }
}
