package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkReaperTest {
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
  void deletesGarbageChunksAndPurgesExactlyThoseInodes() throws Exception {
    for (long inode = 1; inode <= 3; inode++) {
      store.write(inode, 0, 0, ByteBuffer.wrap(new byte[100]), false);
      store.write(inode, 2, 0, ByteBuffer.wrap(new byte[100]), false);
    }
    garbage.pending.addAll(List.of(1L, 3L, 99L)); // 99 has no chunks here: still purged
    try (ChunkReaper reaper = new ChunkReaper(garbage, store, Duration.ofHours(1), 10)) {
      assertEquals(List.of(1L, 3L, 99L), reaper.reapOnce());
    }
    assertEquals(List.of(List.of(1L, 3L, 99L)), garbage.purges);
    assertTrue(new ChunkLayout(dir).indexesOf(1).isEmpty());
    assertTrue(new ChunkLayout(dir).indexesOf(3).isEmpty());
    assertEquals(100, store.read(2, 2, 0, 1000).remaining());
    assertEquals(2 * (100 + 4), store.usedBytes());
  }

  @Test
  void reapsFullBatchesUntilNoneAreLeft() throws Exception {
    for (long inode = 1; inode <= 5; inode++) {
      store.write(inode, 0, 0, ByteBuffer.wrap(new byte[10]), false);
      garbage.pending.add(inode);
    }
    try (ChunkReaper reaper = new ChunkReaper(garbage, store, Duration.ofHours(1), 2)) {
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L), reaper.reapOnce());
    }
    assertEquals(List.of(List.of(1L, 2L), List.of(3L, 4L), List.of(5L)), garbage.purges);
    assertEquals(0, store.usedBytes());
  }

  @Test
  void aFailedListingDeletesAndPurgesNothing() throws Exception {
    store.write(1, 0, 0, ByteBuffer.wrap(new byte[10]), false);
    garbage.pending.add(1L);
    garbage.failListings.set(1);
    try (ChunkReaper reaper = new ChunkReaper(garbage, store, Duration.ofHours(1), 10)) {
      assertThrows(IOException.class, reaper::reapOnce);
      assertFalse(new ChunkLayout(dir).indexesOf(1).isEmpty());
      assertTrue(garbage.purges.isEmpty());
      assertEquals(List.of(1L), reaper.reapOnce());
    }
  }

  @Test
  void scheduledPassesKeepGoingAfterAFailureAndStopOnClose() throws Exception {
    store.write(1, 0, 0, ByteBuffer.wrap(new byte[10]), false);
    garbage.pending.add(1L);
    garbage.failListings.set(2);
    ChunkReaper reaper = new ChunkReaper(garbage, store, Duration.ofMillis(20), 10);
    reaper.start();
    try {
      awaitTrue(() -> !garbage.purges.isEmpty(), Duration.ofSeconds(10));
      assertEquals(List.of(List.of(1L)), garbage.purges);
      assertTrue(new ChunkLayout(dir).indexesOf(1).isEmpty());
    } finally {
      reaper.close();
    }
    int listingsAtClose = garbage.listings.get();
    store.write(2, 0, 0, ByteBuffer.wrap(new byte[10]), false);
    garbage.pending.add(2L);
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

  /** An in-memory control plane: garbage is listed until purged. */
  static final class FakeGarbage implements GarbageSource {
    final List<Long> pending = new CopyOnWriteArrayList<>();
    final List<List<Long>> purges = new CopyOnWriteArrayList<>();
    final AtomicInteger failListings = new AtomicInteger();
    final AtomicInteger listings = new AtomicInteger();

    @Override
    public CompletableFuture<List<Long>> listGarbage(int limit) {
      listings.incrementAndGet();
      if (failListings.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return CompletableFuture.failedFuture(new IOException("no leader"));
      }
      List<Long> batch = new ArrayList<>(pending.subList(0, Math.min(limit, pending.size())));
      return CompletableFuture.completedFuture(batch);
    }

    @Override
    public CompletableFuture<Void> purge(List<Long> inodes) {
      purges.add(List.copyOf(inodes));
      pending.removeAll(inodes);
      return CompletableFuture.completedFuture(null);
    }
  }
}
