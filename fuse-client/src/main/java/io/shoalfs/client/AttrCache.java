package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Ticker;
import io.shoalfs.proto.Attr;
import java.time.Duration;

/**
 * Attributes by inode, for a short TTL, so that the kernel's many getattr calls (attr_timeout
 * is 0, see {@link MountOptions}) are answered without a round trip. Keyed by inode, not path:
 * every name of a hard-linked file sees the same entry, so nlink and size stay consistent.
 *
 * <p>Freshness: this mount's own mutations put the attributes the cluster answered, or
 * invalidate what they may have changed ({@link MetaClient}); another mount's changes are seen
 * within the TTL, and at once on open (close-to-open: {@code open} reads attributes fresh).
 * A fetch that started before an invalidation is not kept (see {@link GuardedCache}).
 */
final class AttrCache {
  private final GuardedCache<Long, Attr> attrs;

  AttrCache(long maxEntries, Duration ttl) {
    this(maxEntries, ttl, Ticker.systemTicker());
  }

  AttrCache(long maxEntries, Duration ttl, Ticker ticker) {
    this.attrs = new GuardedCache<>(maxEntries, ttl, ticker);
  }

  /** The cached attributes of {@code inode}, or null. */
  Attr get(long inode) {
    return attrs.get(inode);
  }

  /** Read before sending a request whose answer will be {@link #put}. */
  long generation() {
    return attrs.generation();
  }

  void put(Attr attr, long generationBeforeRequest) {
    attrs.put(attr.getInode(), attr, generationBeforeRequest);
  }

  void invalidate(long inode) {
    attrs.invalidate(inode);
  }

  /** Forgets everything: after a mutation whose effects on other inodes are not known here. */
  void invalidateAll() {
    attrs.invalidateAll();
  }
}
