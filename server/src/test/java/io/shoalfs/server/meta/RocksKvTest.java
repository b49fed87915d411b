package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RocksKv's prefix scans on a real RocksDB. */
class RocksKvTest {
  private static final int DELETED = 5000;

  @TempDir Path tmp;
  private RocksKv kv;

  @BeforeEach
  void open() throws Exception {
    kv = RocksKv.open(tmp.resolve("db"));
  }

  @AfterEach
  void close() {
    kv.close();
  }

  private static byte[] key(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void write(java.util.function.Consumer<KvBatch> changes) {
    try (KvBatch batch = kv.newBatch()) {
      changes.accept(batch);
      kv.commit(batch);
    }
  }

  /** Keys under "b/" written then deleted, and one live key after them. */
  private void deletedKeysAfterPrefixA() {
    write(b -> {
      for (int i = 0; i < DELETED; i++) {
        b.put(key("b/" + i), new byte[8]);
      }
    });
    write(b -> {
      for (int i = 0; i < DELETED; i++) {
        b.delete(key("b/" + i));
      }
      b.put(key("c"), new byte[1]);
    });
  }

  private static List<String> keysOf(KvReader reader, String prefix, String from) {
    List<String> keys = new ArrayList<>();
    reader.scan(key(prefix), key(from), (k, v) -> keys.add(new String(k, StandardCharsets.UTF_8)));
    return keys;
  }

  @Test
  void aScanOfAPrefixWithNothingLeftDoesNotWalkTheDeletedKeysAfterIt() {
    deletedKeysAfterPrefixA();

    long skippedByRead = kv.deletedKeysSkippedBy(
        () -> assertEquals(List.of(), kv.read(r -> keysOf(r, "a/", "a/"))));
    long skippedInBatch;
    try (KvBatch batch = kv.newBatch()) {
      skippedInBatch = kv.deletedKeysSkippedBy(
          () -> assertEquals(List.of(), keysOf(batch, "a/", "a/")));
    }

    // Unbounded, the seek steps over all 5000 deleted "b/" keys to reach "c".
    assertTrue(skippedByRead < 100, "a read's scan stepped over " + skippedByRead);
    assertTrue(skippedInBatch < 100, "a batch's scan stepped over " + skippedInBatch);
  }

  @Test
  void aBatchsScanDoesNotWalkTheDeletesTheBatchItselfHoldsAfterThePrefix() {
    // An rmdir journal: each op deletes keys past the next directory's prefix, then the next
    // op asks whether its directory is empty. RocksDB counts no skipped key on the batch's
    // side, so this compares the cost of such scans with the same scans in an empty batch:
    // bounded, alike; unbounded, every scan walks all the batch's deletes (hundreds of times
    // slower at this size).
    int scans = 200;
    long lone = Long.MAX_VALUE;
    long crowded = Long.MAX_VALUE;
    for (int attempt = 0; attempt < 3; attempt++) {
      try (KvBatch empty = kv.newBatch(); KvBatch deletes = kv.newBatch()) {
        for (int i = 0; i < 4 * DELETED; i++) {
          deletes.delete(key("b/" + i));
        }
        lone = Math.min(lone, timeOfScans(empty, scans));
        crowded = Math.min(crowded, timeOfScans(deletes, scans));
      }
    }
    assertTrue(crowded < 20 * lone + 20_000_000L, "scans in a batch of "
        + 4 * DELETED + " deletes took " + crowded / 1000 + " us, in an empty one "
        + lone / 1000 + " us");
  }

  private static long timeOfScans(KvBatch batch, int scans) {
    long start = System.nanoTime();
    for (int i = 0; i < scans; i++) {
      assertEquals(List.of(), keysOf(batch, "a/" + i + "/", "a/" + i + "/"));
    }
    return System.nanoTime() - start;
  }

  @Test
  void boundedScansStillSeeTheWholePrefixFromWhereTheyStart() {
    deletedKeysAfterPrefixA();
    write(b -> {
      b.put(key("a/1"), new byte[1]);
      b.put(key("a/2"), new byte[1]);
      b.put(key("a/3"), new byte[1]);
      b.put(key("a0"), new byte[1]);
    });

    assertEquals(List.of("a/1", "a/2", "a/3"), kv.read(r -> keysOf(r, "a/", "a/")));
    assertEquals(List.of("a/2", "a/3"), kv.read(r -> keysOf(r, "a/", "a/2")));
    try (KvBatch batch = kv.newBatch()) {
      // What the batch itself wrote is seen too, and its deletes hide the store's keys.
      batch.put(key("a/4"), new byte[1]);
      batch.delete(key("a/1"));
      assertEquals(List.of("a/2", "a/3", "a/4"), keysOf(batch, "a/", "a/"));
    }
  }

  @Test
  void theSuccessorOfAPrefixIsTheFirstKeyPastIt() {
    assertArrayEquals(new byte[] {1, 3}, RocksKv.successorOf(new byte[] {1, 2}));
    assertArrayEquals(new byte[] {2}, RocksKv.successorOf(new byte[] {1, (byte) 0xFF}));
    assertNull(RocksKv.successorOf(new byte[] {(byte) 0xFF, (byte) 0xFF}));
  }
}
