package io.shoalfs.client.writeback;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * When this mount takes the capability of a directory that exists already (one it did not make).
 * Taking one costs a log entry and a listing, and pays back from the second operation on, as
 * long as this mount goes on working there alone. Where another mount works too, a taken
 * directory is soon recalled; so a directory recalled from this mount, refused to it, or given
 * back because an operation there needed the servers is left to the servers for a while: 5 s,
 * twice as long each time it happens again, at most 5 minutes.
 *
 * <p>Not thread-safe: {@link WriteBack} calls it under its lock.
 */
final class TakePolicy {
  /** Held directories at most: each keeps its listing in the mount's memory. */
  static final int MAX_HELD = 20_000;
  /** A directory with more names than this is left to the servers (its listing is memory). */
  static final int MAX_ENTRIES = 10_000;
  static final Duration FIRST_PAUSE = Duration.ofSeconds(5);
  static final Duration LONGEST_PAUSE = Duration.ofMinutes(5);
  /** Pauses remembered at most; past this, those that ended are forgotten. */
  private static final int REMEMBERED = 10_000;

  /** Until when a directory is left alone, and how long its last pause was. */
  private record Pause(long untilNs, long lengthNs) {}

  private final Map<Long, Pause> paused = new HashMap<>();

  /** Whether this mount, holding {@code heldCount} directories, may take {@code dir} now. */
  boolean mayTake(long dir, int heldCount, long nowNs) {
    if (heldCount >= MAX_HELD) {
      return false;
    }
    Pause p = paused.get(dir);
    return p == null || nowNs - p.untilNs >= 0;
  }

  /** {@code dir} went back to the servers against this mount's wish: leave it alone a while. */
  void leaveAlone(long dir, long nowNs) {
    Pause last = paused.get(dir);
    long length = last == null || nowNs - last.untilNs > LONGEST_PAUSE.toNanos()
        ? FIRST_PAUSE.toNanos()
        : Math.min(LONGEST_PAUSE.toNanos(), last.lengthNs * 2);
    if (paused.size() >= REMEMBERED) {
      paused.values().removeIf(p -> nowNs - p.untilNs >= 0);
    }
    paused.put(dir, new Pause(nowNs + length, length));
  }
}
