package io.shoalfs.client;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What short-circuit local reads did since the mount started, for operators and tests (the
 * mount answers them as the xattr {@link #XATTR} of its root).
 */
final class ShortCircuitCounters {
  static final String XATTR = "user.shoal.short-circuit";

  /** Reads answered from a local copy's descriptors. */
  final AtomicLong served = new AtomicLong();
  /** Reads a local copy could not answer (checksum mismatch, replaced copy, I/O error). */
  final AtomicLong fallbacks = new AtomicLong();
  /** Descriptor requests the local server refused (another version, no copy) or left unanswered. */
  final AtomicLong refused = new AtomicLong();
  /** Descriptor pairs received from a local server. */
  final AtomicLong opened = new AtomicLong();

  /** {@code enabled=1 served=N fallbacks=N refused=N opened=N}: one line, stable order. */
  String format(boolean enabled) {
    return "enabled=" + (enabled ? 1 : 0) + " served=" + served.get() + " fallbacks="
        + fallbacks.get() + " refused=" + refused.get() + " opened=" + opened.get();
  }
}
