package io.shoalfs.client.writeback;

import java.time.Duration;

/**
 * How a mount's metadata journal is sent.
 *
 * @param flushAge the oldest operation waits at most this long for the journal to go (zero:
 *     no capabilities, no journal: every operation goes to the servers at once); a mount that
 *     dies loses at most this much of its work
 * @param maxOps a journal this long goes at once
 * @param idleRelease a held directory this mount has not used for this long is given back
 */
public record JournalSettings(Duration flushAge, int maxOps, Duration idleRelease) {
  public JournalSettings {
    if (flushAge.isNegative() || maxOps <= 0 || idleRelease.isNegative()) {
      throw new IllegalArgumentException("bad journal settings");
    }
  }

  /**
   * 20 ms, 512 operations, 30 s. 20 ms is a handful of Raft round trips here: long enough to
   * gather hundreds of creates into one entry, short enough that a killed mount loses little.
   */
  public static JournalSettings defaults() {
    return new JournalSettings(Duration.ofMillis(20), 512, Duration.ofSeconds(30));
  }

  public static JournalSettings off() {
    return new JournalSettings(Duration.ZERO, 1, Duration.ZERO);
  }

  public boolean enabled() {
    return !flushAge.isZero();
  }
}
