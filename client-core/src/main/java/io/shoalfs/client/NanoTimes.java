package io.shoalfs.client;

import io.shoalfs.proto.SetAttrOp;
import java.time.Instant;

/**
 * Nanoseconds since the epoch, all the way between metadata and a front end (the mount's
 * {@code tv_nsec} is nanoseconds: Alluxio once wrote microseconds there), and utimensat's
 * UTIME_NOW / UTIME_OMIT markers become SetAttrOp mask bits.
 */
public final class NanoTimes {
  static final long NANOS_PER_SECOND = 1_000_000_000L;
  /** utimensat(2): set this time to the current time. */
  public static final long UTIME_NOW = (1L << 30) - 1;
  /** utimensat(2): leave this time alone. */
  public static final long UTIME_OMIT = (1L << 30) - 2;

  private NanoTimes() {}

  public static long nowNs() {
    Instant now = Instant.now();
    return now.getEpochSecond() * NANOS_PER_SECOND + now.getNano();
  }

  static long toNanos(long seconds, long nanos) {
    return Math.addExact(Math.multiplyExact(seconds, NANOS_PER_SECOND), nanos);
  }

  /** Whole seconds of {@code ns}, rounded down (a time before 1970 has a negative second). */
  public static long secondsOf(long ns) {
    return Math.floorDiv(ns, NANOS_PER_SECOND);
  }

  /** The nanosecond part of {@code ns}, always in [0, 1e9). */
  public static long nanosOf(long ns) {
    return Math.floorMod(ns, NANOS_PER_SECOND);
  }

  /**
   * The SetAttrOp for utimens(atime, mtime): each time is omitted, set to now (by the metadata
   * state machine, from {@code now_ns}) or set to the given instant.
   */
  static SetAttrOp.Builder utimens(
      long inode, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec, long nowNs) {
    SetAttrOp.Builder op = SetAttrOp.newBuilder().setInode(inode).setNowNs(nowNs);
    int valid = 0;
    if (atimeNsec == UTIME_NOW) {
      valid |= SetAttrBits.ATIME_NOW;
    } else if (atimeNsec != UTIME_OMIT) {
      valid |= SetAttrBits.ATIME;
      op.setAtimeNs(toNanos(atimeSec, atimeNsec));
    }
    if (mtimeNsec == UTIME_NOW) {
      valid |= SetAttrBits.MTIME_NOW;
    } else if (mtimeNsec != UTIME_OMIT) {
      valid |= SetAttrBits.MTIME;
      op.setMtimeNs(toNanos(mtimeSec, mtimeNsec));
    }
    return op.setValid(valid);
  }
}
