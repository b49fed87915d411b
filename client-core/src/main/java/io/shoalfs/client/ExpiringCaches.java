package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * The one way the client's metadata caches are built: bounded by entry count, each entry
 * dropped a fixed time after it was written, on the caller's thread (no maintenance task on
 * the common pool), with a ticker tests can move.
 */
final class ExpiringCaches {
  private ExpiringCaches() {}

  static Caffeine<Object, Object> builder(long maxEntries, Duration ttl, Ticker ticker) {
    return Caffeine.newBuilder()
        .maximumSize(maxEntries)
        .expireAfterWrite(ttl)
        .ticker(ticker)
        .executor(Runnable::run);
  }
}
