package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.shoalfs.proto.SetAttrOp;
import org.junit.jupiter.api.Test;

class NanoTimesTest {
  private static final long NOW = 1_700_000_000_123_456_789L;

  @Test
  void theMarkersHaveTheirLinuxValues() {
    assertEquals(1073741823L, NanoTimes.UTIME_NOW);
    assertEquals(1073741822L, NanoTimes.UTIME_OMIT);
  }

  @Test
  void explicitTimesAreNanosecondsNotMicroseconds() {
    SetAttrOp op = NanoTimes.utimens(9, 1_600_000_000L, 987_654_321L, 1_500_000_000L, 1L, NOW)
        .build();
    assertEquals(9, op.getInode());
    assertEquals(SetAttrBits.ATIME | SetAttrBits.MTIME, op.getValid());
    assertEquals(1_600_000_000_987_654_321L, op.getAtimeNs());
    assertEquals(1_500_000_000_000_000_001L, op.getMtimeNs());
  }

  @Test
  void utimeNowBecomesTheNowBitAndNowNs() {
    SetAttrOp op = NanoTimes.utimens(9, 0, NanoTimes.UTIME_NOW, 5, 6, NOW).build();
    assertEquals(SetAttrBits.ATIME_NOW | SetAttrBits.MTIME, op.getValid());
    assertEquals(NOW, op.getNowNs());
    assertFalse(op.getAtimeNs() != 0, "the time comes from now_ns, not from tv_sec");
    assertEquals(5_000_000_006L, op.getMtimeNs());
  }

  @Test
  void utimeOmitLeavesThatTimeAlone() {
    SetAttrOp op = NanoTimes.utimens(9, 3, 4, 0, NanoTimes.UTIME_OMIT, NOW).build();
    assertEquals(SetAttrBits.ATIME, op.getValid());
    assertEquals(3_000_000_004L, op.getAtimeNs());

    SetAttrOp both = NanoTimes.utimens(9, 0, NanoTimes.UTIME_OMIT, 0, NanoTimes.UTIME_NOW, NOW)
        .build();
    assertEquals(SetAttrBits.MTIME_NOW, both.getValid());
    assertEquals(0, NanoTimes.utimens(9, 0, NanoTimes.UTIME_OMIT, 0, NanoTimes.UTIME_OMIT, NOW)
        .getValid());
  }

  @Test
  void nanosecondsSplitIntoSecondsAndANonNegativeRemainder() {
    assertEquals(1_700_000_000L, NanoTimes.secondsOf(NOW));
    assertEquals(123_456_789L, NanoTimes.nanosOf(NOW));
    // Half a second before the epoch is second -1 plus 500 000 000 ns.
    assertEquals(-1, NanoTimes.secondsOf(-500_000_000L));
    assertEquals(500_000_000L, NanoTimes.nanosOf(-500_000_000L));
    assertEquals(NOW, NanoTimes.toNanos(NanoTimes.secondsOf(NOW), NanoTimes.nanosOf(NOW)));
  }
}
