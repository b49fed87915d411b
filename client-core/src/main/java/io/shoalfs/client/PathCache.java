package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Absolute path to inode, so that a path is not resolved on every call (jnr-fuse callbacks are
 * path-based). Entries live briefly: another client's rename or unlink is seen within the TTL.
 * This mount's own unlink/rmdir/rename invalidate at once. A resolve that started before an
 * invalidation does not re-insert what it removed (see {@link GuardedCache}).
 *
 * <p>A renamed or removed directory invalidates everything below it without walking the cache
 * (a walk cost every rename and rmdir time in proportion to all the paths cached): the tree is
 * recorded with the generation of its invalidation, and a cached path is stale when the path
 * or one of its ancestors was invalidated after the path was resolved. A record is kept until
 * every entry it could cover has expired.
 */
final class PathCache {
  private final GuardedCache<String, Resolved> inodes;
  private final Ticker ticker;
  private final long keepTreesNanos;
  /** Directory path -> generation of its newest invalidation, for the last TTL or so. */
  private final Map<String, Long> invalidatedTrees = new ConcurrentHashMap<>();
  /** The same invalidations in the order they happened, to forget them when they are old. */
  private final Queue<TreeInvalidation> oldestFirst = new ConcurrentLinkedQueue<>();

  /** A cached inode and the generation read before the resolve that found it. */
  private record Resolved(long inode, long generation) {}

  private record TreeInvalidation(String path, long generation, long atNanos) {}

  PathCache(long maxEntries, Duration ttl) {
    this(maxEntries, ttl, Ticker.systemTicker());
  }

  PathCache(long maxEntries, Duration ttl, Ticker ticker) {
    this.inodes = new GuardedCache<>(maxEntries, ttl, ticker);
    this.ticker = ticker;
    // Twice the TTL: an entry covered by a record expires no later than one TTL after it.
    this.keepTreesNanos = 2 * ttl.toNanos();
  }

  /** The inode cached for {@code path}, or null. */
  Long get(String path) {
    Resolved r = inodes.get(path);
    if (r == null) {
      return null;
    }
    if (!invalidatedTrees.isEmpty() && invalidatedSince(path, r.generation())) {
      inodes.forget(path, r);
      return null;
    }
    return r.inode();
  }

  /** Read before sending a resolve whose answer will be {@link #put}. */
  long generation() {
    return inodes.generation();
  }

  void put(String path, long inode, long generationBeforeResolve) {
    inodes.put(path, new Resolved(inode, generationBeforeResolve), generationBeforeResolve);
  }

  void invalidate(String path) {
    inodes.invalidate(path);
  }

  /** Invalidates {@code path} and every path below it (a renamed or removed directory). */
  void invalidateTree(String path) {
    String tree = path.length() > 1 && path.endsWith("/")
        ? path.substring(0, path.length() - 1) : path;
    long generation = inodes.invalidate(tree);
    long now = ticker.read();
    forgetOldInvalidations(now);
    invalidatedTrees.merge(tree, generation, Math::max);
    oldestFirst.add(new TreeInvalidation(tree, generation, now));
  }

  long size() {
    return inodes.size();
  }

  /** Invalidated trees still remembered; for tests. */
  int treesRemembered() {
    return invalidatedTrees.size();
  }

  /**
   * Whether {@code path}, or a directory above it, was invalidated after {@code generation}.
   * Invalidations in the same generation or before happened before the resolve was sent, so
   * the resolve saw their outcome.
   */
  private boolean invalidatedSince(String path, long generation) {
    for (int end = path.length(); end > 0; end = path.lastIndexOf('/', end - 1)) {
      if (invalidatedAfter(path.substring(0, end), generation)) {
        return true;
      }
    }
    return invalidatedAfter("/", generation);
  }

  private boolean invalidatedAfter(String tree, long generation) {
    Long at = invalidatedTrees.get(tree);
    return at != null && at > generation;
  }

  private void forgetOldInvalidations(long now) {
    for (TreeInvalidation oldest = oldestFirst.peek();
        oldest != null && now - oldest.atNanos() > keepTreesNanos;
        oldest = oldestFirst.peek()) {
      if (oldestFirst.remove(oldest)) {
        invalidatedTrees.remove(oldest.path(), oldest.generation());
      }
    }
  }
}
