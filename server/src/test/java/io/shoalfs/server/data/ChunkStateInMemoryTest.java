package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.bytes;
import static io.shoalfs.server.data.ChunkStoreTest.flipByte;
import static io.shoalfs.server.data.ChunkStoreTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the store keeps in memory (each open chunk's length and CRC table, each copy's version)
 * is what its files say: a restart reads the same, reads verify against it, and the buffers
 * reads go through never leak one read's bytes into another.
 */
class ChunkStateInMemoryTest {
  static final int CHUNK = 4 << 20;
  /** Small blocks: one read buffer ({@link BlockBuffers#MAX_BYTES}) holds 256 of them. */
  static final int BLOCK = 4096;

  @TempDir Path dir;

  @Test
  void aRestartAfterWriteAndSyncReadsTheSameVersionAndChecksums() throws IOException {
    byte[] model = random(1, 5 * BLOCK + 123);
    ChunkLayout layout = new ChunkLayout(dir);
    ChunkKey key = new ChunkKey(3, 1);
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      store.write(3, 1, 0, ByteBuffer.wrap(model), false, 5);
      byte[] patch = random(2, 300);
      store.write(3, 1, 2 * BLOCK - 100, ByteBuffer.wrap(patch), false, 6);
      System.arraycopy(patch, 0, model, 2 * BLOCK - 100, patch.length);
      store.syncFile(3);
    }
    // The sidecar holds the CRC of every block as it now is, written back with the data.
    byte[] sidecar = Files.readAllBytes(layout.checksumFile(key));
    assertEquals(6 * 4, sidecar.length);
    for (int b = 0; b < 6; b++) {
      CRC32C crc = new CRC32C();
      crc.update(model, b * BLOCK, Math.min(BLOCK, model.length - b * BLOCK));
      assertEquals((int) crc.getValue(), ByteBuffer.wrap(sidecar).getInt(b * 4), "block " + b);
    }
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertEquals(6, store.version(3, 1));
      assertArrayEquals(model, bytes(store.read(3, 1, 0, CHUNK, 6)));
      assertThrows(StaleVersionException.class, () -> store.read(3, 1, 0, 1, 5));
    }
  }

  @Test
  void aReadVerifiesTheBlocksItTouchesAcrossReadBuffers() throws IOException {
    byte[] model = random(3, 3 * BlockBuffers.MAX_BYTES);
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      store.write(8, 0, 0, ByteBuffer.wrap(model), true);
      long rotten = 2 * BlockBuffers.MAX_BYTES + BLOCK / 2; // in the third read buffer
      flipByte(new ChunkLayout(dir).dataFile(new ChunkKey(8, 0)), rotten);

      CorruptChunkException whole =
          assertThrows(CorruptChunkException.class, () -> store.read(8, 0, 0, model.length));
      assertEquals(rotten / BLOCK, whole.block());
      assertThrows(CorruptChunkException.class, () -> store.read(8, 0, rotten, 1));
      // Untouched blocks still read, across the boundary between two read buffers too.
      int across = BlockBuffers.MAX_BYTES - 100;
      assertArrayEquals(Arrays.copyOfRange(model, across, across + 200),
          bytes(store.read(8, 0, across, 200)));
      assertArrayEquals(Arrays.copyOf(model, 2 * BlockBuffers.MAX_BYTES),
          bytes(store.read(8, 0, 0, 2 * BlockBuffers.MAX_BYTES)));
      long next = (rotten / BLOCK + 1) * BLOCK;
      assertArrayEquals(Arrays.copyOfRange(model, (int) next, model.length),
          bytes(store.read(8, 0, next, CHUNK - (int) next)));
    }
  }

  /**
   * An overwrite re-checksums the blocks it writes and no others: a rotten block after it is
   * neither verified (the write succeeds) nor blessed with a fresh CRC (it stays CORRUPT).
   */
  @Test
  void anOverwriteTouchesOnlyItsOwnBlocks() throws IOException {
    byte[] model = random(6, 64 * BLOCK);
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      store.write(4, 0, 0, ByteBuffer.wrap(model), false);
      flipByte(new ChunkLayout(dir).dataFile(new ChunkKey(4, 0)), 40 * BLOCK + 1);
      byte[] patch = random(7, 100);
      store.write(4, 0, 3 * BLOCK + 10, ByteBuffer.wrap(patch), false);
      System.arraycopy(patch, 0, model, 3 * BLOCK + 10, patch.length);
      assertArrayEquals(Arrays.copyOf(model, 40 * BLOCK), bytes(store.read(4, 0, 0, 40 * BLOCK)));
      assertEquals(40, assertThrows(CorruptChunkException.class,
          () -> store.read(4, 0, 40 * BLOCK, BLOCK)).block());
    }
  }

  @Test
  void aHoleReadsAsZerosWhateverTheThreadReadBefore() throws IOException {
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      byte[] noise = random(4, 4 * BLOCK);
      store.write(1, 0, 0, ByteBuffer.wrap(noise), false);
      assertArrayEquals(noise, bytes(store.read(1, 0, 0, noise.length))); // fills the buffer

      // Chunk 2: 10 bytes, then one byte three blocks on. Block 0 is old bytes and a hole.
      store.write(2, 0, 0, ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), false);
      assertArrayEquals(noise, bytes(store.read(1, 0, 0, noise.length)));
      store.write(2, 0, 3 * BLOCK + 7, ByteBuffer.wrap(new byte[] {42}), false);
      byte[] expected = new byte[3 * BLOCK + 8];
      for (int i = 0; i < 10; i++) {
        expected[i] = (byte) (i + 1);
      }
      expected[3 * BLOCK + 7] = 42;
      assertArrayEquals(expected, bytes(store.read(2, 0, 0, CHUNK)));
    }
    try (ChunkStore reopened = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertArrayEquals(new byte[3 * BLOCK - 10], bytes(reopened.read(2, 0, 10, 3 * BLOCK - 10)),
          "the checksums written for the hole are those of zeros");
    }
  }

  @Test
  void aNewChunkIsCreatedWrittenAndReadAndAMissingOneReadsEmpty() throws IOException {
    ChunkLayout layout = new ChunkLayout(dir);
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertEquals(0, store.read(0x77, 2, 0, 4096, 9).remaining(), "missing: empty, no error");
      assertEquals(0, store.version(0x77, 2));
      assertFalse(Files.exists(layout.dataFile(new ChunkKey(0x77, 2))), "a read creates nothing");
      assertFalse(Files.exists(layout.versionFile(new ChunkKey(0x77, 2))));

      byte[] first = random(5, 4096);
      store.write(0x77, 2, 0, ByteBuffer.wrap(first), false, 9);
      assertEquals(9, store.version(0x77, 2));
      assertArrayEquals(first, bytes(store.read(0x77, 2, 0, 4096, 9)));
      // A second new chunk in the same (now existing) directory.
      store.write(0x77, 3, 0, ByteBuffer.wrap(first), true, 9);
      assertArrayEquals(first, bytes(store.read(0x77, 3, 0, 8192, 9)));

      assertTrue(store.deleteChunk(0x77, 2));
      assertEquals(0, store.read(0x77, 2, 0, 4096, 9).remaining(), "deleted: empty again");
      assertEquals(0, store.version(0x77, 2), "the version went with the copy");
      assertFalse(Files.exists(layout.versionFile(new ChunkKey(0x77, 2))));
    }
  }
}
