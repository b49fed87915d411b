package io.shoalfs.server.data;

import java.util.concurrent.TimeUnit;

/**
 * Holds a background walk (the healer's pages of the chunk map, the orphan collector's chunk
 * directories) to a number of items a second, so that its cost per second stays the same
 * however much the cluster stores: it sleeps whenever the walk gets ahead.
 */
final class Pace {
  private final int perSecond;
  private final long started = System.nanoTime();
  private long done;

  Pace(int perSecond) {
    if (perSecond < 1) {
      throw new IllegalArgumentException("pace must be positive: " + perSecond);
    }
    this.perSecond = perSecond;
  }

  /** Counts {@code items} more as done, then sleeps until they are due. */
  void done(long items) throws InterruptedException {
    done += items;
    long due = started + (long) (done * (1_000_000_000.0 / perSecond));
    long early = due - System.nanoTime();
    if (early > 0) {
      TimeUnit.NANOSECONDS.sleep(early);
    }
  }
}
