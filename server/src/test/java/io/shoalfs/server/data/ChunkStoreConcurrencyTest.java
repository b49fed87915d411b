package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static io.shoalfs.server.data.ChunkStoreTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreConcurrencyTest {
  static final int THREADS = 8;

  @TempDir Path dir;

  /** Each thread owns chunks; a tiny open-chunk cache forces evictions of leased chunks. */
  @Test
  void writersOfDifferentChunksDoNotDisturbEachOther() throws Exception {
    int chunksPerThread = 3;
    byte[][] models = new byte[THREADS * chunksPerThread][CHUNK / 4];
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK, 4)) {
      runAll(THREADS, t -> {
        Random rnd = new Random(t);
        for (int step = 0; step < 150; step++) {
          int c = t * chunksPerThread + rnd.nextInt(chunksPerThread);
          byte[] model = models[c];
          int offset = rnd.nextInt(model.length - 1);
          int length = 1 + rnd.nextInt(Math.min(BLOCK + 3000, model.length - offset));
          byte[] piece = new byte[length];
          rnd.nextBytes(piece);
          store.write(100 + c, c % 2, offset, ByteBuffer.wrap(piece), step % 50 == 0);
          System.arraycopy(piece, 0, model, offset, length);
          int readAt = rnd.nextInt(model.length);
          byte[] got = bytes(store.read(100 + c, c % 2, readAt, 2 * BLOCK));
          assertArrayEquals(Arrays.copyOfRange(model, readAt, readAt + got.length), got);
        }
      });
    }
    try (ChunkStore reopened = new ChunkStore(dir, CHUNK, BLOCK)) {
      for (int c = 0; c < models.length; c++) {
        byte[] got = bytes(reopened.read(100 + c, c % 2, 0, CHUNK));
        byte[] expected = Arrays.copyOf(models[c], got.length);
        assertArrayEquals(expected, got, "chunk " + c);
        assertTrue(got.length > 0);
      }
    }
  }

  /**
   * Many threads write one chunk: disjoint stripes must all land; overlapping writes may
   * land in any order, but every block's checksum must match whatever landed.
   */
  @Test
  void writersOfOneChunkAreSerialized() throws Exception {
    int stripe = 3 * BLOCK / 2; // unaligned on purpose: neighbours share blocks
    byte[][] pieces = new byte[THREADS][];
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      runAll(THREADS, t -> {
        Random rnd = new Random(1000 + t);
        byte[] mine = new byte[stripe];
        rnd.nextBytes(mine);
        pieces[t] = mine;
        // Write my stripe in small, shuffled pieces, interleaving with everyone else.
        List<Integer> starts = new ArrayList<>();
        for (int o = 0; o < stripe; o += 1000) {
          starts.add(o);
        }
        Collections.shuffle(starts, rnd);
        for (int o : starts) {
          int n = Math.min(1000, stripe - o);
          store.write(1, 0, (long) t * stripe + o, ByteBuffer.wrap(mine, o, n), false);
          // And scribble over a shared scratch region past everyone's stripes.
          byte[] scribble = new byte[BLOCK / 3];
          rnd.nextBytes(scribble);
          store.write(1, 0, THREADS * stripe + rnd.nextInt(BLOCK), ByteBuffer.wrap(scribble),
              false);
        }
      });
    }
    try (ChunkStore reopened = new ChunkStore(dir, CHUNK, BLOCK)) {
      for (int t = 0; t < THREADS; t++) {
        assertArrayEquals(pieces[t], bytes(reopened.read(1, 0, (long) t * stripe, stripe)));
      }
      // The scribbled region: content is a race, but it reads back verified.
      ByteBuffer scratch = reopened.read(1, 0, (long) THREADS * stripe, 2 * BLOCK);
      assertTrue(scratch.remaining() > BLOCK / 3);
    }
  }

  interface Body {
    void run(int thread) throws Exception;
  }

  static void runAll(int threads, Body body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        futures.add(pool.submit(() -> {
          body.run(id);
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS); // rethrows a thread's assertion failure
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
