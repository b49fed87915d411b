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

  /**
   * A name hidden for a process a moment ago: libfuse's rename(a, b) hides an open b first,
   * within the same request (so the same calling pid), then renames.
   */
  record Hidden(String path, long inode, long atNs) {}

  /** Generous: on a loaded machine a first call (classes loading, JIT) takes its time. */
  private static final long JUST_NS = 10_000_000_000L;

  private final Map<String, Long> byPath = new ConcurrentHashMap<>();
  private final Map<Long, Hidden> justHidden = new ConcurrentHashMap<>();
  /** Orphans whose hidden name is gone while other handles of theirs are still open here. */
  private final java.util.Set<Long> releaseLater = ConcurrentHashMap.newKeySet();

  /** True for the names libfuse gives the files it hides. */
  static boolean isHiddenName(String path) {
    return HIDDEN.matcher(FusePath.of(path).name()).matches();
  }

  /** {@code path} (of {@code inode}) is now known to libfuse as {@code hiddenPath}. */
  void hide(String path, String hiddenPath, long inode, long pid) {
    byPath.put(hiddenPath, inode);
    justHidden.put(pid, new Hidden(path, inode, System.nanoTime()));
  }

  /** The process makes another call: what was hidden for it before is no rename's business. */
  void forgetJustHidden(long pid) {
    if (!justHidden.isEmpty()) {
      justHidden.remove(pid);
    }
  }

  /** What was hidden for {@code pid} just before, if anything (forgotten once asked). */
  Hidden takeJustHidden(long pid) {
    Hidden h = justHidden.isEmpty() ? null : justHidden.remove(pid);
    return h != null && System.nanoTime() - h.atNs() < JUST_NS ? h : null;
  }

  /** The inode a hidden path stands for, or null. */
  Long inode(String path) {
    return byPath.isEmpty() ? null : byPath.get(path);
  }

  /**
   * libfuse takes one from st_nlink of a hidden node (in its own scheme the hidden name is a
   * link): add it back, so that a process sees the inode's true link count (0 stays 0).
   */
  io.shoalfs.proto.Attr asLibfuseSees(String path, io.shoalfs.proto.Attr attr) {
    if (attr.getNlink() == 0 || inode(path) == null) {
      return attr;
    }
    return attr.toBuilder().setNlink(attr.getNlink() + 1).build();
  }

  void releaseLater(long inode) {
    releaseLater.add(inode);
  }

  /** True (once) if the last handle of {@code inode} must release it as an orphan. */
  boolean takeReleaseLater(long inode) {
    return !releaseLater.isEmpty() && releaseLater.remove(inode);
  }

  /** Forgets a hidden path (libfuse unlinks it at the last close); its inode, or null. */
  Long remove(String path) {
    return byPath.remove(path);
  }
}
