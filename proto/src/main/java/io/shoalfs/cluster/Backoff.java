package io.shoalfs.cluster;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential retry delays with jitter, capped. Jitter keeps a fleet of servers that lost etcd
 * together from hammering it in lockstep when it comes back. Not thread-safe: each retry loop
 * owns one.
 */
final class Backoff {
  private final long initialMs;
  private final long maxMs;
  private long nextMs;

  Backoff(Duration initial, Duration max) {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 < initial <= max: " + initial + ", " + max);
    }
    this.initialMs = initial.toMillis();
    this.maxMs = max.toMillis();
    this.nextMs = initialMs;
  }

  /** The delay before the next attempt: in [d/2, d] where d doubles each call up to max. */
  Duration next() {
    long d = nextMs;
    nextMs = Math.min(maxMs, nextMs * 2);
    long half = d / 2;
    return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(d - half + 1));
  }

  void reset() {
    nextMs = initialMs;
  }
}
