package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * Absolute path to inode, so that a path is not resolved on every call (jnr-fuse callbacks are
 * path-based). Entries live briefly: another client's rename or unlink is seen within the TTL.
 * This mount's own unlink/rmdir/rename invalidate at once. A resolve that started before an
 * invalidation does not re-insert what it removed (see {@link GuardedCache}).
 */
final class PathCache {
  private final GuardedCache<String, Long> inodes;

  PathCache(long maxEntries, Duration ttl) {
    this(maxEntries, ttl, Ticker.systemTicker());
  }

  PathCache(long maxEntries, Duration ttl, Ticker ticker) {
    this.inodes = new GuardedCache<>(maxEntries, ttl, ticker);
  }

  /** The inode cached for {@code path}, or null. */
  Long get(String path) {
    return inodes.get(path);
  }

  /** Read before sending a resolve whose answer will be {@link #put}. */
  long generation() {
    return inodes.generation();
  }

  void put(String path, long inode, long generationBeforeResolve) {
    inodes.put(path, inode, generationBeforeResolve);
  }

  void invalidate(String path) {
    inodes.invalidate(path);
  }

  /** Invalidates {@code path} and every path below it (a renamed or removed directory). */
  void invalidateTree(String path) {
    String prefix = path.endsWith("/") ? path : path + "/";
    inodes.invalidateIf(p -> p.equals(path) || p.startsWith(prefix));
  }

  long size() {
    return inodes.size();
  }
}
