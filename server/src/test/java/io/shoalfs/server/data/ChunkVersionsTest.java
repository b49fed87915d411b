package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chunk versions in their sidecar files: durable, checked, deleted with the copy. */
class ChunkVersionsTest {
  @TempDir Path dir;

  @Test
  void versionsSurviveAReopenAndAbsentMeansZero() throws IOException {
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertEquals(0, store.version(1, 0));
      store.write(1, 0, 0, ByteBuffer.wrap(new byte[10]), true, 7);
      store.setVersion(1, 1, 3);
    }
    Path file = new ChunkLayout(dir).versionFile(new ChunkKey(1, 0));
    assertEquals(8, Files.size(file));
    assertEquals(7, ByteBuffer.wrap(Files.readAllBytes(file)).getLong(), "8 bytes, big-endian");
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertEquals(7, store.version(1, 0));
      assertEquals(3, store.version(1, 1));
      assertEquals(10 + 4, store.usedBytes(), "version files are not chunk bytes");
      assertThrows(StaleVersionException.class,
          () -> store.write(1, 0, 0, ByteBuffer.wrap(new byte[1]), false, 6));
      assertThrows(StaleVersionException.class, () -> store.read(1, 0, 0, 1, 6));
    }
  }

  @Test
  void deletingAFileOrTruncatingItAwayDeletesTheVersionsToo() throws IOException {
    ChunkLayout layout = new ChunkLayout(dir);
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      for (int index = 0; index < 3; index++) {
        store.write(2, index, 0, ByteBuffer.wrap(new byte[10]), false, 4);
      }
      store.truncateFile(2, CHUNK + 5);
      assertTrue(Files.exists(layout.versionFile(new ChunkKey(2, 1))));
      assertFalse(Files.exists(layout.versionFile(new ChunkKey(2, 2))));
      store.deleteFile(2);
      assertFalse(Files.exists(layout.versionFile(new ChunkKey(2, 0))));
      assertFalse(Files.exists(layout.versionFile(new ChunkKey(2, 1))));
      assertEquals(0, store.usedBytes());
    }
  }

  @Test
  void theChunkDirectoriesHoldEveryCopyButStagedOnes() throws IOException {
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      store.write(0x1_0001L, 2, 0, ByteBuffer.wrap(new byte[5]), false, 9);
      store.write(3, 0, 0, ByteBuffer.wrap(new byte[7]), false);
      store.write(3, 1, 0, ByteBuffer.wrap(new byte[1]), false, 1);
      Files.writeString(new ChunkLayout(dir).directoryOf(3).resolve("stray.txt"), "x");
      StagedChunk staged = store.stage(3, 9); // staging is not a chunk directory
      List<StoredChunk> chunks = new ArrayList<>();
      for (Path directory : store.chunkDirectories()) {
        chunks.addAll(store.listChunksIn(directory));
      }
      staged.close();
      chunks.sort(Comparator.comparingLong(StoredChunk::inode)
          .thenComparingInt(StoredChunk::index));
      assertEquals(List.of("3#0 v0 7", "3#1 v1 1", "65537#2 v9 5"), chunks.stream()
          .map(c -> c.inode() + "#" + c.index() + " v" + c.version() + " " + c.length())
          .toList());
      long now = System.currentTimeMillis();
      assertTrue(chunks.stream().allMatch(c -> Math.abs(now - c.lastModifiedMillis()) < 60_000));
    }
  }

  @Test
  void leftoverStagingIsClearedAtOpen() throws IOException {
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      StagedChunk staged = store.stage(5, 0);
      staged.write(0, ByteBuffer.wrap(new byte[100]));
      // no close: the process "dies" here
    }
    Path staging = new ChunkLayout(dir).stagingRoot();
    assertTrue(Files.exists(staging));
    try (ChunkStore store = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertFalse(Files.exists(staging));
      assertEquals(0, store.usedBytes());
    }
  }
}
