package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.github.benmanes.caffeine.cache.Ticker;
import io.shoalfs.proto.Attr;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AttrCacheTest {
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = nanos::get;
  private final AttrCache cache = new AttrCache(100, Duration.ofSeconds(1), ticker);

  private static Attr attr(long inode, long size) {
    return Attr.newBuilder().setInode(inode).setSize(size).build();
  }

  @Test
  void entriesExpireAfterTheTtl() {
    cache.put(attr(7, 10), 1);
    assertEquals(10, cache.get(7).getSize());
    nanos.addAndGet(Duration.ofMillis(1001).toNanos());
    assertNull(cache.get(7));
  }

  @Test
  void anAnswerOlderThanAnInvalidationIsNotKept() {
    cache.invalidate(7, 20); // a mutation at index 20 finished while a read was in flight
    cache.put(attr(7, 10), 19); // the read ran before it
    assertNull(cache.get(7));
    cache.put(attr(7, 11), 20); // a read that ran after it
    assertEquals(11, cache.get(7).getSize());
  }

  @Test
  void anInvalidationOfOneInodeLeavesTheOthers() {
    // What made the old single-counter guard useless under load: any invalidation anywhere
    // dropped every answer in flight.
    cache.invalidate(8, 20);
    cache.put(attr(7, 10), 5);
    assertEquals(10, cache.get(7).getSize());
  }

  @Test
  void ofTwoAnswersTheNewerWinsWhateverOrderTheyArriveIn() {
    cache.put(attr(7, 2), 12);
    cache.put(attr(7, 1), 11);
    assertEquals(2, cache.get(7).getSize());
  }

  @Test
  void anInvalidationKeepsAnAnswerAlreadyNewerThanIt() {
    cache.put(attr(7, 3), 30);
    cache.invalidate(7, 25);
    assertEquals(3, cache.get(7).getSize());
  }

  @Test
  void invalidateAllForgetsEveryOlderInodeAndRefusesOlderAnswers() {
    cache.put(attr(1, 1), 1);
    cache.put(attr(2, 2), 2);
    cache.invalidateAll(3);
    assertNull(cache.get(1));
    assertNull(cache.get(2));
    cache.put(attr(1, 1), 2);
    assertNull(cache.get(1));
    cache.put(attr(1, 5), 3);
    assertEquals(5, cache.get(1).getSize());
  }

  @Test
  void aFloorForgottenForRoomStillHoldsForEveryInode() {
    AttrCache small = new AttrCache(1, Duration.ofSeconds(1), ticker);
    small.invalidate(1, 10);
    small.invalidate(2, 11); // no room for inode 1's floor: it becomes everyone's
    small.put(attr(1, 1), 9);
    assertNull(small.get(1));
    small.put(attr(3, 3), 9);
    assertNull(small.get(3));
  }

  @Test
  void anUnknownIndexIsPastEveryAnswerSeen() {
    cache.put(attr(7, 1), 41);
    assertEquals(42, cache.indexAfterNewestSeen());
    cache.invalidate(7, cache.indexAfterNewestSeen());
    assertNull(cache.get(7));
  }

  @Test
  void aZeroTtlCachesNothing() {
    AttrCache off = new AttrCache(1, Duration.ZERO, ticker);
    off.put(attr(7, 10), 1);
    assertNull(off.get(7));
  }
}
