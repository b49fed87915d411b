package io.shoalfs.client.writeback;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TakePolicyTest {
  private static final long S = 1_000_000_000L;
  private final TakePolicy policy = new TakePolicy();

  @Test
  void aDirectoryLeftAloneWaitsLongerEachTimeUpToTheLongestPause() {
    assertTrue(policy.mayTake(7, 0, 0));
    policy.leaveAlone(7, 0);
    assertFalse(policy.mayTake(7, 0, 4 * S));
    assertTrue(policy.mayTake(7, 0, 5 * S));
    assertTrue(policy.mayTake(8, 0, 0), "others are not concerned");

    policy.leaveAlone(7, 5 * S); // 10 s now
    assertFalse(policy.mayTake(7, 0, 14 * S));
    assertTrue(policy.mayTake(7, 0, 15 * S));
    long now = 15 * S;
    for (int i = 0; i < 10; i++) {
      policy.leaveAlone(7, now);
    }
    assertFalse(policy.mayTake(7, 0, now + 299 * S));
    assertTrue(policy.mayTake(7, 0, now + 300 * S), "five minutes at most");
  }

  @Test
  void aLongQuietStartsThePausesAgainFromTheFirst() {
    for (int i = 0; i < 5; i++) {
      policy.leaveAlone(7, 0);
    }
    long later = 3600 * S;
    policy.leaveAlone(7, later);
    assertTrue(policy.mayTake(7, 0, later + 5 * S));
  }

  @Test
  void nothingIsTakenPastTheHeldLimit() {
    assertFalse(policy.mayTake(7, TakePolicy.MAX_HELD, 0));
  }
}
