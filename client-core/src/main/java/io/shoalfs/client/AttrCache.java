package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import io.shoalfs.proto.Attr;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Attributes by inode, for a short TTL, so that the kernel's many getattr calls (attr_timeout
 * is 0, see {@link MountOptions}) are answered without a round trip. Keyed by inode, not path:
 * every name of a hard-linked file sees the same entry, so nlink and size stay consistent.
 *
 * <p>Freshness: this mount's own mutations put the attributes the cluster answered, or
 * invalidate what they may have changed ({@link MetaClient}); another mount's changes are seen
 * within the TTL, and at once on open (close-to-open: {@code open} reads attributes fresh).
 *
 * <p>Ordering: every answer carries the metadata log index it reflects. An invalidation
 * records the index of the mutation that made an inode's attributes stale (its floor), and an
 * answer older than the floor is not kept; of two answers the newer one wins. Why not a
 * single counter bumped by every invalidation: with several threads mutating at once some
 * invalidation was always in flight, so nothing fetched was ever kept and every getattr went
 * to the cluster, under exactly the load where caching matters.
 */
final class AttrCache {
  /** How long an inode's floor is remembered: longer than any call can take to be answered. */
  static final Duration FLOOR_MEMORY = Duration.ofMinutes(5);

  private record Entry(Attr attr, long asOf) {}

  private final Cache<Long, Entry> entries;
  private final Cache<Long, Long> floors;
  // Floor of every inode: invalidateAll's index, and floors dropped for room.
  private final AtomicLong allFloor = new AtomicLong();
  private final AtomicLong newestSeen = new AtomicLong();

  AttrCache(long maxEntries, Duration ttl) {
    this(maxEntries, ttl, Ticker.systemTicker());
  }

  AttrCache(long maxEntries, Duration ttl, Ticker ticker) {
    this.entries = ExpiringCaches.builder(maxEntries, ttl, ticker).build();
    this.floors = ExpiringCaches.builder(maxEntries, FLOOR_MEMORY, ticker)
        .<Long, Long>removalListener((inode, floor, cause) -> {
          if (cause == RemovalCause.SIZE && floor != null) {
            allFloor.accumulateAndGet(floor, Math::max); // forgotten for room: assume it of all
          }
        })
        .build();
  }

  /** The cached attributes of {@code inode}, or null. */
  Attr get(long inode) {
    Entry e = entries.getIfPresent(inode);
    return e == null ? null : e.attr();
  }

  /** Keeps {@code attr}, as of log index {@code asOf}, unless a newer answer or a floor is above it. */
  void put(Attr attr, long asOf) {
    newestSeen.accumulateAndGet(asOf, Math::max);
    long inode = attr.getInode();
    if (asOf < floorOf(inode)) {
      return;
    }
    Entry mine = new Entry(attr, asOf);
    Entry kept = entries.asMap().merge(inode, mine, (old, neu) -> old.asOf() > neu.asOf() ? old : neu);
    // Checked again after the put: an invalidation raises the floor before it removes, so one
    // that ran meanwhile is seen here.
    if (kept == mine && asOf < floorOf(inode)) {
      entries.asMap().remove(inode, mine);
    }
  }

  /**
   * A mutation at log index {@code atIndex} left {@code attr}'s inode as {@code attr}: kept, and
   * any answer older than the mutation is refused from now on.
   */
  void changedAt(Attr attr, long atIndex) {
    invalidate(attr.getInode(), atIndex);
    put(attr, atIndex);
  }

  /** A mutation at log index {@code atIndex} may have changed {@code inode}. */
  void invalidate(long inode, long atIndex) {
    floors.asMap().merge(inode, atIndex, Math::max);
    entries.asMap().computeIfPresent(inode, (k, e) -> e.asOf() >= atIndex ? e : null);
  }

  /** A mutation at {@code atIndex} may have changed any inode. */
  void invalidateAll(long atIndex) {
    allFloor.accumulateAndGet(atIndex, Math::max);
    entries.asMap().values().removeIf(e -> e.asOf() < atIndex);
  }

  /**
   * The index to invalidate at for a mutation whose index is unknown (no answer): just past
   * every answer seen, so what is cached now is dropped. If the mutation is applied later
   * still, answers in between may show the old attributes for up to the TTL, as for another
   * mount's change.
   */
  long indexAfterNewestSeen() {
    return newestSeen.get() + 1;
  }

  private long floorOf(long inode) {
    Long f = floors.getIfPresent(inode);
    return Math.max(allFloor.get(), f == null ? 0 : f);
  }
}
