package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.ChunkLocation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrphanCollectorTest {
  static final Duration GRACE = Duration.ofSeconds(60);

  @TempDir Path dir;
  ChunkStore store;
  Checker checker;

  @BeforeEach
  void open() throws IOException {
    store = new ChunkStore(dir, CHUNK, BLOCK);
    checker = new Checker();
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void deletesExactlyTheGarbageAndNeverAsksAboutFreshOrUnversionedCopies() throws Exception {
    old(1, 0, 1);
    old(2, 0, 1);
    old(2, 1, 3);
    store.write(3, 0, 0, ByteBuffer.wrap(new byte[10]), false, 2); // fresh: a write just now
    old(4, 0, 0); // unversioned: the single-node path's
    checker.garbage = Set.of(new ChunkKey(1, 0), new ChunkKey(2, 1),
        new ChunkKey(3, 0), new ChunkKey(4, 0)); // the last two were never asked about

    List<StoredChunk> deleted = collector(10).collectOnce();

    assertEquals(List.of(new ChunkKey(1, 0), new ChunkKey(2, 1)), keys(deleted));
    assertEquals(List.of(List.of("1#0@1", "2#0@1", "2#1@3")), checker.asked);
    assertEquals(List.of("node-a"), checker.members.stream().distinct().toList());
    assertNull(store.info(1, 0));
    assertNull(store.info(2, 1));
    assertNotNull(store.info(2, 0));
    assertNotNull(store.info(3, 0));
    assertNotNull(store.info(4, 0));
    assertEquals(3 * (10 + 4), store.usedBytes());
  }

  @Test
  void asksInBatches() throws Exception {
    for (long inode = 1; inode <= 5; inode++) {
      old(inode, 0, 1);
    }
    checker.garbage = Set.of(new ChunkKey(5, 0));
    assertEquals(List.of(new ChunkKey(5, 0)), keys(collector(2).collectOnce()));
    assertEquals(List.of(List.of("1#0@1", "2#0@1"), List.of("3#0@1", "4#0@1"),
        List.of("5#0@1")), checker.asked);
  }

  @Test
  void aCopyRewrittenWhileTheCheckerThoughtKeepsLiving() throws Exception {
    old(6, 0, 1);
    checker.garbage = Set.of(new ChunkKey(6, 0));
    // The healer re-replicates the chunk here between the listing and the verdict.
    checker.whileAsked = held -> {
      try {
        store.write(6, 0, 0, ByteBuffer.wrap(new byte[20]), false, 2);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    };
    assertTrue(collector(10).collectOnce().isEmpty());
    assertEquals(2, store.version(6, 0));
  }

  @Test
  void aPassListsCopiesNoFasterThanItsPace() throws Exception {
    for (long inode = 1; inode <= 20; inode++) {
      old(inode, 0, 1); // each in a fan-out directory of its own
    }
    checker.garbage = Set.of(new ChunkKey(20, 0));
    OrphanCollector paced = new OrphanCollector(store, "node-a", checker, Duration.ofHours(1),
        GRACE, 5, 50);
    long started = System.nanoTime();
    assertEquals(List.of(new ChunkKey(20, 0)), keys(paced.collectOnce()));
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertTrue(tookMillis >= 390, "20 copies at 50 a second took only " + tookMillis + " ms");
    assertEquals(4, checker.asked.size(), "still asked about in batches of 5");
  }

  @Test
  void aFailedCheckDeletesNothing() throws Exception {
    old(7, 0, 1);
    checker.fail = true;
    assertThrows(IOException.class, () -> collector(10).collectOnce());
    assertNotNull(store.info(7, 0));
  }

  @Test
  void runsOnItsSchedule() throws Exception {
    old(8, 0, 1);
    checker.garbage = Set.of(new ChunkKey(8, 0));
    try (OrphanCollector collector = new OrphanCollector(store, "node-a", checker,
        Duration.ofMillis(20), GRACE)) {
      collector.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (store.info(8, 0) != null) {
        assertTrue(System.nanoTime() < deadline, "the scheduled pass never deleted it");
        LockSupport.parkNanos(1_000_000);
      }
    }
  }

  OrphanCollector collector(int batchSize) {
    return new OrphanCollector(store, "node-a", checker, Duration.ofHours(1), GRACE, batchSize,
        Integer.MAX_VALUE);
  }

  /** A chunk copy with 10 bytes at {@code version}, last modified two minutes ago. */
  void old(long inode, int index, long version) throws IOException {
    store.write(inode, index, 0, ByteBuffer.wrap(new byte[10]), false, version);
    ChunkLayout layout = new ChunkLayout(dir);
    ChunkKey key = new ChunkKey(inode, index);
    FileTime past = FileTime.fromMillis(System.currentTimeMillis() - 120_000);
    for (Path file : new Path[] {layout.dataFile(key), layout.checksumFile(key),
        layout.versionFile(key)}) {
      if (Files.exists(file)) {
        Files.setLastModifiedTime(file, past);
      }
    }
  }

  static List<ChunkKey> keys(List<StoredChunk> chunks) {
    return chunks.stream().map(c -> new ChunkKey(c.inode(), c.index())).toList();
  }

  /** A chunk map that calls garbage exactly the keys it is given. */
  static final class Checker implements ReplicaChecker {
    Set<ChunkKey> garbage = Set.of();
    final List<List<String>> asked = new ArrayList<>();
    final List<String> members = new ArrayList<>();
    Consumer<List<ChunkLocation>> whileAsked = held -> { };
    boolean fail;

    @Override
    public synchronized CompletableFuture<List<ChunkLocation>> garbage(String memberId,
        List<ChunkLocation> held) {
      if (fail) {
        return CompletableFuture.failedFuture(new IllegalStateException("no leader"));
      }
      members.add(memberId);
      asked.add(held.stream().map(l -> l.getChunk().getInode() + "#" + l.getChunk().getIndex()
          + "@" + l.getVersion()).toList());
      whileAsked.accept(held);
      return CompletableFuture.completedFuture(held.stream()
          .filter(l -> garbage.contains(new ChunkKey(l.getChunk().getInode(),
              l.getChunk().getIndex())))
          .toList());
    }
  }
}
