package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.GarbageInode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkReaperTest {
  static final String ME = "s1";
  @TempDir Path dir;
  ChunkStore store;
  FakeGarbage garbage;

  @BeforeEach
  void open() throws IOException {
    store = new ChunkStore(dir, CHUNK, BLOCK);
    garbage = new FakeGarbage();
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void deletesTheChunksOfGarbageHeldHereAndPurgesOnlyThisMember() throws Exception {
    for (long inode = 1; inode <= 4; inode++) {
      store.write(inode, 0, 0, ByteBuffer.wrap(new byte[100]), false);
      store.write(inode, 2, 0, ByteBuffer.wrap(new byte[100]), false);
    }
    garbage.add(1, ME, "s2", "s3");
    garbage.add(3, ME);
    garbage.add(4, "s2", "s3"); // not held here (this copy is the orphan collector's business)
    garbage.add(99, ME); // no chunks here: still purged
    try (ChunkReaper reaper = reaper(10)) {
      assertEquals(List.of(1L, 3L, 99L), reaper.reapOnce());
    }
    assertEquals(List.of(new Purge(ME, List.of(1L, 3L, 99L))), garbage.purges);
    assertTrue(new ChunkLayout(dir).indexesOf(1).isEmpty());
    assertTrue(new ChunkLayout(dir).indexesOf(3).isEmpty());
    assertEquals(100, store.read(2, 2, 0, 1000).remaining());
    assertEquals(100, store.read(4, 2, 0, 1000).remaining());
    assertEquals(List.of("s2", "s3"), garbage.holders(1), "the others still have to delete");
    assertEquals(List.of("s2", "s3"), garbage.holders(4));
  }

  @Test
  void aRecordWithoutHoldersIsReapedByAnyMember() throws Exception {
    garbage.add(5);
    try (ChunkReaper reaper = reaper(10)) {
      assertEquals(List.of(5L), reaper.reapOnce());
    }
    assertEquals(List.of(new Purge(ME, List.of(5L))), garbage.purges);
  }

  @Test
  void pagesThroughEveryRecordEvenWhenOthersKeepThemListed() throws Exception {
    for (long inode = 1; inode <= 5; inode++) {
      store.write(inode, 0, 0, ByteBuffer.wrap(new byte[10]), false);
      garbage.add(inode, "s2", ME); // s2 has not reaped yet: the records stay listed
    }
    try (ChunkReaper reaper = reaper(2)) {
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L), reaper.reapOnce());
      assertEquals(List.of(), reaper.reapOnce(), "nothing of ours is left");
    }
    assertEquals(List.of(new Purge(ME, List.of(1L, 2L)), new Purge(ME, List.of(3L, 4L)),
        new Purge(ME, List.of(5L))), garbage.purges);
    assertEquals(0, store.usedBytes());
    assertEquals(List.of("s2"), garbage.holders(5));
  }

  @Test
  void purgesForAGoneHolderWithoutDeletingItsInodesHere() throws Exception {
    store.write(7, 0, 0, ByteBuffer.wrap(new byte[10]), false); // a stray copy, not ours
    garbage.add(7, "gone", "s2");
    garbage.add(8, "gone", ME);
    garbage.gone.add("gone");
    try (ChunkReaper reaper = reaper(10)) {
      assertEquals(List.of(8L), reaper.reapOnce());
    }
    assertEquals(List.of(new Purge(ME, List.of(8L)), new Purge("gone", List.of(7L, 8L))),
        garbage.purges);
    assertEquals(10, store.read(7, 0, 0, 1000).remaining());
    assertEquals(List.of("s2"), garbage.holders(7));
    assertFalse(garbage.records.containsKey(8L), "its last holders are done");
  }

  @Test
  void aFailedListingDeletesAndPurgesNothing() throws Exception {
    store.write(1, 0, 0, ByteBuffer.wrap(new byte[10]), false);
    garbage.add(1, ME);
    garbage.failListings.set(1);
    try (ChunkReaper reaper = reaper(10)) {
      assertThrows(IOException.class, reaper::reapOnce);
      assertFalse(new ChunkLayout(dir).indexesOf(1).isEmpty());
      assertTrue(garbage.purges.isEmpty());
      assertEquals(List.of(1L), reaper.reapOnce());
    }
  }

  @Test
  void scheduledPassesKeepGoingAfterAFailureAndStopOnClose() throws Exception {
    store.write(1, 0, 0, ByteBuffer.wrap(new byte[10]), false);
    garbage.add(1, ME);
    garbage.failListings.set(2);
    ChunkReaper reaper = new ChunkReaper(garbage, store, ME, Duration.ofMillis(20), 10);
    reaper.start();
    try {
      awaitTrue(() -> !garbage.purges.isEmpty(), Duration.ofSeconds(10));
      assertEquals(List.of(new Purge(ME, List.of(1L))), garbage.purges);
      assertTrue(new ChunkLayout(dir).indexesOf(1).isEmpty());
    } finally {
      reaper.close();
    }
    int listingsAtClose = garbage.listings.get();
    store.write(2, 0, 0, ByteBuffer.wrap(new byte[10]), false);
    garbage.add(2, ME);
    // Nothing runs after close: the listing count stays put over several periods.
    long until = System.nanoTime() + Duration.ofMillis(200).toNanos();
    while (System.nanoTime() < until) {
      assertEquals(listingsAtClose, garbage.listings.get());
      Thread.onSpinWait();
    }
    assertFalse(new ChunkLayout(dir).indexesOf(2).isEmpty());
  }

  static void awaitTrue(BooleanSupplier condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout);
      }
      Thread.onSpinWait();
    }
  }

  ChunkReaper reaper(int batchSize) {
    return new ChunkReaper(garbage, store, ME, Duration.ofHours(1), batchSize);
  }

  record Purge(String holder, List<Long> inodes) {}

  /**
   * An in-memory control plane: a record is listed, in inode order, until its last holder
   * purged it (or it had none and anyone did).
   */
  static final class FakeGarbage implements GarbageSource {
    final NavigableMap<Long, GarbageInode> records = new ConcurrentSkipListMap<>();
    final List<Purge> purges = new CopyOnWriteArrayList<>();
    final Set<String> gone = ConcurrentHashMap.newKeySet();
    final AtomicInteger failListings = new AtomicInteger();
    final AtomicInteger listings = new AtomicInteger();

    void add(long inode, String... holders) {
      records.put(inode, GarbageInode.newBuilder().setInode(inode)
          .addAllHolders(List.of(holders)).build());
    }

    List<String> holders(long inode) {
      return records.get(inode).getHoldersList();
    }

    @Override
    public CompletableFuture<List<GarbageInode>> listGarbage(long startInode, int limit) {
      listings.incrementAndGet();
      if (failListings.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return CompletableFuture.failedFuture(new IOException("no leader"));
      }
      List<GarbageInode> page = records.tailMap(startInode, true).values().stream()
          .limit(limit).toList();
      return CompletableFuture.completedFuture(page);
    }

    @Override
    public CompletableFuture<Void> purge(String holder, List<Long> inodes) {
      purges.add(new Purge(holder, List.copyOf(inodes)));
      for (long inode : inodes) {
        records.computeIfPresent(inode, (k, g) -> {
          List<String> left = new ArrayList<>(g.getHoldersList());
          left.remove(holder);
          return left.isEmpty() ? null : g.toBuilder().clearHolders().addAllHolders(left).build();
        });
      }
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean isGone(String holder) {
      return gone.contains(holder);
    }
  }
}
