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
    cache.put(attr(7, 10), cache.generation());
    assertEquals(10, cache.get(7).getSize());
    nanos.addAndGet(Duration.ofMillis(1001).toNanos());
    assertNull(cache.get(7));
  }

  @Test
  void aFetchThatStartedBeforeAnInvalidationIsNotKept() {
    long before = cache.generation();
    cache.invalidate(7); // a mutation of this mount finished while the fetch was in flight
    cache.put(attr(7, 10), before);
    assertNull(cache.get(7));
  }

  @Test
  void invalidateAllForgetsEveryInode() {
    cache.put(attr(1, 1), cache.generation());
    cache.put(attr(2, 2), cache.generation());
    cache.invalidateAll();
    assertNull(cache.get(1));
    assertNull(cache.get(2));
  }

  @Test
  void aZeroTtlCachesNothing() {
    AttrCache off = new AttrCache(1, Duration.ZERO, ticker);
    off.put(attr(7, 10), off.generation());
    assertNull(off.get(7));
  }
}
