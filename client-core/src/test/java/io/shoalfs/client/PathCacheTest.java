package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PathCacheTest {
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = nanos::get;
  private final PathCache cache = new PathCache(1000, Duration.ofSeconds(2), ticker);

  @Test
  void entriesExpireAfterTheTtl() {
    cache.put("/a", 2, cache.generation());
    nanos.addAndGet(Duration.ofMillis(1999).toNanos());
    assertEquals(2L, cache.get("/a"));
    nanos.addAndGet(Duration.ofMillis(2).toNanos());
    assertNull(cache.get("/a"));
  }

  @Test
  void invalidateTreeRemovesThePathAndEverythingBelowIt() {
    long g = cache.generation();
    cache.put("/a", 2, g);
    cache.put("/a/b", 3, g);
    cache.put("/a/b/c", 4, g);
    cache.put("/ab", 5, g);
    cache.put("/x", 6, g);

    cache.invalidateTree("/a");

    assertNull(cache.get("/a"));
    assertNull(cache.get("/a/b"));
    assertNull(cache.get("/a/b/c"));
    assertEquals(5L, cache.get("/ab"), "a sibling that merely shares the prefix stays");
    assertEquals(6L, cache.get("/x"));
  }

  @Test
  void pathsResolvedAfterATreeWasInvalidatedAreKept() {
    cache.put("/a/b", 3, cache.generation());
    cache.invalidateTree("/a/");
    assertNull(cache.get("/a/b"), "a trailing slash names the same tree");

    long after = cache.generation();
    cache.put("/a", 7, after);
    cache.put("/a/b", 8, after);
    assertEquals(7L, cache.get("/a"));
    assertEquals(8L, cache.get("/a/b"), "resolved after the rmdir/rename: it saw the new tree");
  }

  @Test
  void invalidatingTheRootInvalidatesEverything() {
    long g = cache.generation();
    cache.put("/a", 2, g);
    cache.put("/b/c", 3, g);
    cache.invalidateTree("/");
    assertNull(cache.get("/a"));
    assertNull(cache.get("/b/c"));
  }

  @Test
  void treeInvalidationsAreForgottenOnceEverythingTheyCoveredHasExpired() {
    for (int i = 0; i < 100; i++) {
      cache.invalidateTree("/d" + i);
    }
    assertEquals(100, cache.treesRemembered());
    cache.put("/d1/x", 5, cache.generation());

    nanos.addAndGet(Duration.ofMillis(4001).toNanos());
    cache.invalidateTree("/e");

    assertEquals(1, cache.treesRemembered(), "only the newest is still needed");
    assertNull(cache.get("/d1/x"), "expired with its TTL, not kept alive by forgetting");
  }

  @Test
  void invalidateRemovesOnlyThatPath() {
    long g = cache.generation();
    cache.put("/a", 2, g);
    cache.put("/a/b", 3, g);
    cache.invalidate("/a");
    assertNull(cache.get("/a"));
    assertEquals(3L, cache.get("/a/b"));
  }

  @Test
  void aResolveThatRacedWithAnInvalidationIsNotCached() {
    long before = cache.generation();
    // ... resolve sent; meanwhile this mount renames the path away ...
    cache.invalidateTree("/a");
    cache.put("/a", 2, before);
    assertNull(cache.get("/a"), "the answer may describe the path before the rename");

    cache.put("/a", 9, cache.generation());
    assertEquals(9L, cache.get("/a"));
  }

  @Test
  void theCacheIsBounded() {
    PathCache small = new PathCache(10, Duration.ofSeconds(2), ticker);
    for (int i = 0; i < 100; i++) {
      small.put("/f" + i, i, small.generation());
    }
    assertEquals(10, small.size());
  }
}
