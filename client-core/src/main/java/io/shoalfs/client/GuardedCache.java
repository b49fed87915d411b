package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded cache whose entries expire a fixed time after they were put, guarded against a
 * lost invalidation: an answer fetched before an invalidation must not put back what the
 * invalidation removed. So {@link #put} takes the {@link #generation()} read before the request
 * was sent, and drops the entry when any invalidation happened meanwhile.
 */
final class GuardedCache<K, V> {
  private final Cache<K, V> entries;
  private final AtomicLong generation = new AtomicLong();

  GuardedCache(long maxEntries, Duration ttl, Ticker ticker) {
    this.entries = ExpiringCaches.builder(maxEntries, ttl, ticker).build();
  }

  /** The value cached for {@code key}, or null. */
  V get(K key) {
    return entries.getIfPresent(key);
  }

  /** Read before sending a request whose answer will be {@link #put}. */
  long generation() {
    return generation.get();
  }

  void put(K key, V value, long generationBeforeRequest) {
    entries.put(key, value);
    // Checked after the put: a concurrent invalidation either removed the entry itself or
    // bumped the generation before this read.
    if (generation.get() != generationBeforeRequest) {
      entries.invalidate(key);
    }
  }

  /** Removes {@code key}; returns the generation this invalidation started. */
  long invalidate(K key) {
    long now = generation.incrementAndGet();
    entries.invalidate(key);
    return now;
  }

  /**
   * Drops {@code key} if it still maps to {@code value}, without starting a generation: for an
   * entry found stale, whose removal cannot lose anything a resolve in flight would put.
   */
  void forget(K key, V value) {
    entries.asMap().remove(key, value);
  }

  void invalidateAll() {
    generation.incrementAndGet();
    entries.invalidateAll();
  }

  long size() {
    return entries.estimatedSize();
  }
}
