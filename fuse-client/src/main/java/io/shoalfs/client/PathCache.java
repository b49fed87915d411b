package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Absolute path to inode, so that a path is not resolved on every call (jnr-fuse callbacks are
 * path-based). Entries live briefly: another client's rename or unlink is seen within the TTL.
 * This mount's own unlink/rmdir/rename invalidate at once.
 *
 * <p>A resolve that started before an invalidation must not re-insert what the invalidation
 * removed: {@link #put} takes the {@link #generation()} read before the resolve was sent and
 * drops the entry when an invalidation happened meanwhile.
 */
final class PathCache {
  private final Cache<String, Long> inodes;
  private final AtomicLong generation = new AtomicLong();

  PathCache(long maxEntries, Duration ttl) {
    this(maxEntries, ttl, Ticker.systemTicker());
  }

  PathCache(long maxEntries, Duration ttl, Ticker ticker) {
    this.inodes = Caffeine.newBuilder()
        .maximumSize(maxEntries)
        .expireAfterWrite(ttl)
        .ticker(ticker)
        .executor(Runnable::run)
        .build();
  }

  /** The inode cached for {@code path}, or null. */
  Long get(String path) {
    return inodes.getIfPresent(path);
  }

  /** Read before sending a resolve whose answer will be {@link #put}. */
  long generation() {
    return generation.get();
  }

  void put(String path, long inode, long generationBeforeResolve) {
    inodes.put(path, inode);
    // Checked after the put: an invalidation running concurrently either removed the entry
    // itself or bumped the generation before we look here.
    if (generation.get() != generationBeforeResolve) {
      inodes.invalidate(path);
    }
  }

  void invalidate(String path) {
    generation.incrementAndGet();
    inodes.invalidate(path);
  }

  /** Invalidates {@code path} and every path below it (a renamed or removed directory). */
  void invalidateTree(String path) {
    generation.incrementAndGet();
    String prefix = path.endsWith("/") ? path : path + "/";
    inodes.asMap().keySet().removeIf(p -> p.equals(path) || p.startsWith(prefix));
  }

  long size() {
    return inodes.estimatedSize();
  }
}
