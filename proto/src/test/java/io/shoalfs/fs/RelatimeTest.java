package io.shoalfs.fs;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import org.junit.jupiter.api.Test;

class RelatimeTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void aReadAfterAWriteMovesTheAtime() {
    Attr written = times(100 * SECOND, 200 * SECOND, 200 * SECOND);
    assertTrue(Relatime.isDue(written, 300 * SECOND));
  }

  @Test
  void anAtimeEqualToTheChangeStillMoves() {
    assertTrue(Relatime.isDue(times(200 * SECOND, 100 * SECOND, 200 * SECOND), 300 * SECOND));
  }

  @Test
  void aSecondReadOfAnUnchangedFileDoesNotUntilADayHasPassed() {
    Attr read = times(300 * SECOND, 200 * SECOND, 200 * SECOND);
    assertFalse(Relatime.isDue(read, 400 * SECOND));
    assertFalse(Relatime.isDue(read, 300 * SECOND + Relatime.MAX_AGE_NS - 1));
    assertTrue(Relatime.isDue(read, 300 * SECOND + Relatime.MAX_AGE_NS));
  }

  private static Attr times(long atime, long mtime, long ctime) {
    return Attr.newBuilder().setAtimeNs(atime).setMtimeNs(mtime).setCtimeNs(ctime).build();
  }
}
