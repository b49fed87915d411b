package io.shoalfs.server.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreTest {
  static final int CHUNK = 1 << 20;
  static final int BLOCK = 64 << 10;

  @TempDir Path dir;
  ChunkStore store;

  @BeforeEach
  void open() throws IOException {
    store = new ChunkStore(dir, CHUNK, BLOCK);
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** A restart: the store forgets what it kept in memory and reads the files again. */
  void reopen() throws IOException {
    store.close();
    store = new ChunkStore(dir, CHUNK, BLOCK);
  }

  @Test
  void roundTripsUnalignedWritesSpanningBlocks() throws IOException {
    byte[] a = random(1, 3 * BLOCK + 777);
    store.write(7, 0, 1234, ByteBuffer.wrap(a), false);
    assertArrayEquals(a, bytes(store.read(7, 0, 1234, a.length)));
    // A read inside, across block boundaries, unaligned at both ends.
    assertArrayEquals(Arrays.copyOfRange(a, BLOCK - 5000, 2 * BLOCK + 3),
        bytes(store.read(7, 0, 1234 + BLOCK - 5000, BLOCK + 5003)));
    // The hole before the first write reads as zeros.
    assertArrayEquals(new byte[1234], bytes(store.read(7, 0, 0, 1234)));
  }

  @Test
  void overwritesPartOfBlocksAndKeepsTheRest() throws IOException {
    byte[] model = random(2, 2 * BLOCK);
    store.write(1, 0, 0, ByteBuffer.wrap(model), false);
    byte[] patch = random(3, 100);
    store.write(1, 0, BLOCK - 50, ByteBuffer.wrap(patch), false);
    System.arraycopy(patch, 0, model, BLOCK - 50, 100);
    assertArrayEquals(model, bytes(store.read(1, 0, 0, 2 * BLOCK)));
    assertReadsVerifiedAfterReopen(1, 0, model);
  }

  @Test
  void sparseWriteLeavesZerosInTheHole() throws IOException {
    store.write(9, 0, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
    byte[] tail = random(4, 10);
    store.write(9, 0, 5 * BLOCK + 17, ByteBuffer.wrap(tail), false);
    byte[] got = bytes(store.read(9, 0, 0, CHUNK));
    assertEquals(5 * BLOCK + 27, got.length);
    byte[] expected = new byte[got.length];
    expected[0] = 1;
    expected[1] = 2;
    expected[2] = 3;
    System.arraycopy(tail, 0, expected, 5 * BLOCK + 17, 10);
    assertArrayEquals(expected, got);
    assertReadsVerifiedAfterReopen(9, 0, expected);
  }

  @Test
  void readsPastTheEndAreShortAndMissingChunksAreEmpty() throws IOException {
    store.write(3, 2, 0, ByteBuffer.wrap(random(5, 1000)), false);
    assertEquals(400, store.read(3, 2, 600, 4096).remaining());
    assertEquals(0, store.read(3, 2, 1000, 10).remaining());
    assertEquals(0, store.read(3, 2, 5000, 10).remaining());
    assertEquals(0, store.read(3, 1, 0, 10).remaining());
    assertEquals(0, store.read(99, 0, 0, 10).remaining());
    assertFalse(Files.exists(new ChunkLayout(dir).dataFile(new ChunkKey(99, 0))),
        "a read must not create a chunk");
  }

  @Test
  void rejectsRangesOutsideTheChunk() {
    ByteBuffer two = ByteBuffer.allocate(2);
    assertThrows(IllegalArgumentException.class, () -> store.write(1, 0, CHUNK - 1, two, false));
    assertThrows(IllegalArgumentException.class, () -> store.write(1, 0, -1, two, false));
    assertThrows(IllegalArgumentException.class, () -> store.write(1, -1, 0, two, false));
    assertThrows(IllegalArgumentException.class, () -> store.read(1, 0, CHUNK, 1));
    assertThrows(IllegalArgumentException.class, () -> store.truncateFile(1, -1));
  }

  @Test
  void storesChunksUnderTheLowBytesOfTheInode() throws IOException {
    store.write(0x1234abcdL, 5, 0, ByteBuffer.wrap(new byte[] {1}), true);
    Path data = dir.resolve("cd").resolve("ab").resolve("000000001234abcd.5.chunk");
    Path crc = dir.resolve("cd").resolve("ab").resolve("000000001234abcd.5.crc");
    assertTrue(Files.isRegularFile(data), data + " missing");
    assertEquals(1, Files.size(data));
    assertEquals(4, Files.size(crc));
  }

  @Test
  void aFlippedByteFailsItsBlockOnlyAndOtherBlocksStillRead() throws IOException {
    byte[] model = random(6, 4 * BLOCK);
    store.write(5, 0, 0, ByteBuffer.wrap(model), true);
    flipByte(new ChunkLayout(dir).dataFile(new ChunkKey(5, 0)), 2 * BLOCK + 100);

    CorruptChunkException e =
        assertThrows(CorruptChunkException.class, () -> store.read(5, 0, 2 * BLOCK + 5000, 1));
    assertEquals(2, e.block());
    assertEquals(5, e.inode());
    assertThrows(CorruptChunkException.class, () -> store.read(5, 0, BLOCK, 2 * BLOCK));
    assertArrayEquals(Arrays.copyOfRange(model, 0, 2 * BLOCK),
        bytes(store.read(5, 0, 0, 2 * BLOCK)));
    assertArrayEquals(Arrays.copyOfRange(model, 3 * BLOCK, 4 * BLOCK),
        bytes(store.read(5, 0, 3 * BLOCK, BLOCK)));
  }

  /** The CRC table is read when a chunk is opened: a sidecar damaged on disk shows on reopen. */
  @Test
  void aFlippedChecksumFailsItsBlock() throws IOException {
    store.write(5, 0, 0, ByteBuffer.wrap(random(7, 3 * BLOCK)), false);
    flipByte(new ChunkLayout(dir).checksumFile(new ChunkKey(5, 0)), 4 + 2);
    reopen();
    assertEquals(1,
        assertThrows(CorruptChunkException.class, () -> store.read(5, 0, BLOCK, 10)).block());
    assertEquals(10, store.read(5, 0, 0, 10).remaining());
    assertEquals(10, store.read(5, 0, 2 * BLOCK, 10).remaining());
  }

  @Test
  void aMissingChecksumIsCorruption() throws IOException {
    store.write(5, 0, 0, ByteBuffer.wrap(random(8, 2 * BLOCK)), false);
    try (FileChannel crc = FileChannel.open(
        new ChunkLayout(dir).checksumFile(new ChunkKey(5, 0)), StandardOpenOption.WRITE)) {
      crc.truncate(4);
    }
    reopen();
    assertEquals(10, store.read(5, 0, 0, 10).remaining());
    assertEquals(1,
        assertThrows(CorruptChunkException.class, () -> store.read(5, 0, BLOCK, 10)).block());
  }

  @Test
  void aPartialWriteNeverBlessesACorruptBlockButAFullOverwriteReplacesIt() throws IOException {
    store.write(5, 0, 0, ByteBuffer.wrap(random(9, 2 * BLOCK)), false);
    flipByte(new ChunkLayout(dir).dataFile(new ChunkKey(5, 0)), 10);
    assertThrows(CorruptChunkException.class,
        () -> store.write(5, 0, 100, ByteBuffer.wrap(new byte[] {1}), false));
    assertThrows(CorruptChunkException.class, () -> store.read(5, 0, 0, 1));

    byte[] fresh = random(10, BLOCK);
    store.write(5, 0, 0, ByteBuffer.wrap(fresh), false);
    assertArrayEquals(fresh, bytes(store.read(5, 0, 0, BLOCK)));
  }

  @Test
  void truncateDownAcrossChunksAndBlocks() throws IOException {
    byte[] file = random(11, 2 * CHUNK + 3 * BLOCK);
    writeFile(4, file);
    long cut = CHUNK + BLOCK + 1000;
    store.truncateFile(4, cut);

    assertArrayEquals(Arrays.copyOfRange(file, 0, CHUNK), bytes(store.read(4, 0, 0, CHUNK)));
    assertArrayEquals(Arrays.copyOfRange(file, CHUNK, (int) cut),
        bytes(store.read(4, 1, 0, CHUNK)));
    assertEquals(0, store.read(4, 2, 0, CHUNK).remaining());
    assertFalse(Files.exists(new ChunkLayout(dir).dataFile(new ChunkKey(4, 2))));
    assertEquals(Files.size(new ChunkLayout(dir).checksumFile(new ChunkKey(4, 1))), 2 * 4);
    assertReadsVerifiedAfterReopen(4, 1, Arrays.copyOfRange(file, CHUNK, (int) cut));
  }

  @Test
  void truncateToAChunkBoundaryDeletesTheChunkThere() throws IOException {
    writeFile(4, random(12, CHUNK + 10));
    store.truncateFile(4, CHUNK);
    assertEquals(CHUNK, store.read(4, 0, 0, CHUNK).remaining());
    assertFalse(Files.exists(new ChunkLayout(dir).dataFile(new ChunkKey(4, 1))));
  }

  @Test
  void truncateUpDoesNotBringBackCutBytes() throws IOException {
    byte[] file = random(13, 3 * BLOCK);
    writeFile(4, file);
    store.truncateFile(4, 100);
    store.truncateFile(4, 5 * BLOCK);
    assertArrayEquals(Arrays.copyOf(file, 100), bytes(store.read(4, 0, 0, CHUNK)));
    // Writing past the end again: the old bytes between must read as zeros.
    store.write(4, 0, 2 * BLOCK, ByteBuffer.wrap(new byte[] {42}), false);
    byte[] expected = new byte[2 * BLOCK + 1];
    System.arraycopy(file, 0, expected, 0, 100);
    expected[2 * BLOCK] = 42;
    assertArrayEquals(expected, bytes(store.read(4, 0, 0, CHUNK)));
    assertReadsVerifiedAfterReopen(4, 0, expected);
  }

  @Test
  void truncateToZeroAndDeleteRemoveEveryChunk() throws IOException {
    writeFile(4, random(14, 2 * CHUNK + 1));
    writeFile(6, random(15, CHUNK + 1));
    store.truncateFile(4, 0);
    store.deleteFile(6);
    store.deleteFile(12345); // nothing there: not an error
    for (long inode : new long[] {4, 6}) {
      assertTrue(new ChunkLayout(dir).indexesOf(inode).isEmpty(), "inode " + inode);
    }
    assertEquals(0, store.usedBytes());
    assertEquals(0, onDiskBytes());
  }

  @Test
  void usedBytesFollowsEveryChangeAndSurvivesARestart() throws IOException {
    writeFile(1, random(16, CHUNK + 5 * BLOCK + 3));
    store.write(2, 0, 3 * BLOCK, ByteBuffer.wrap(random(17, 10)), true);
    assertEquals(onDiskBytes(), store.usedBytes());
    store.truncateFile(1, BLOCK + 7);
    assertEquals(onDiskBytes(), store.usedBytes());
    store.deleteFile(2);
    assertEquals(onDiskBytes(), store.usedBytes());
    long used = store.usedBytes();
    assertEquals(BLOCK + 7 + 2 * 4, used);
    try (ChunkStore reopened = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertEquals(used, reopened.usedBytes());
    }
  }

  @Test
  void syncFileForcesEveryFileOfEveryChunkOfTheFileAndNothingElse() throws IOException {
    List<Path> forced = new ArrayList<>();
    try (ChunkStore recording = new ChunkStore(dir.resolve("rec"), CHUNK, BLOCK, 4,
        (channel, file) -> {
          forced.add(file);
          channel.force(true);
        })) {
      writeFile(recording, 1, random(18, CHUNK + 1));
      recording.setVersion(1, 1, 7);
      writeFile(recording, 2, random(19, 10));
      forced.clear();

      recording.syncFile(1);
      ChunkLayout layout = new ChunkLayout(recording.dataDir());
      for (int index = 0; index < 2; index++) {
        ChunkKey key = new ChunkKey(1, index);
        assertTrue(forced.contains(layout.dataFile(key)), "data of chunk " + index + " forced");
        assertTrue(forced.contains(layout.checksumFile(key)), "crcs of chunk " + index + " forced");
      }
      assertTrue(forced.contains(layout.versionFile(new ChunkKey(1, 1))), "version forced");
      assertTrue(forced.contains(layout.directoryOf(1)), "the chunks' directory forced");
      assertFalse(forced.stream().anyMatch(f -> f.getFileName().toString().contains(ChunkLayout.hex(2))),
          "another file's chunks are not its sync's business: " + forced);

      forced.clear();
      recording.syncFile(77); // no copy here: nothing to force, no error
      assertEquals(List.of(), forced);
    }
  }

  /** Random writes, truncates and reads checked against a byte-array model of one file. */
  @Test
  void randomOperationsMatchAModel() throws IOException {
    Random rnd = new Random(42);
    int fileMax = 3 * CHUNK;
    byte[] model = new byte[fileMax];
    int size = 0;
    for (int step = 0; step < 400; step++) {
      int op = rnd.nextInt(10);
      if (op < 6) {
        int offset = rnd.nextInt(fileMax - 1);
        int length = 1 + rnd.nextInt(Math.min(3 * BLOCK, fileMax - offset));
        byte[] piece = new byte[length];
        rnd.nextBytes(piece);
        writeAt(8, offset, piece);
        System.arraycopy(piece, 0, model, offset, length);
        size = Math.max(size, offset + length);
      } else if (op < 7) {
        int newSize = rnd.nextInt(fileMax);
        store.truncateFile(8, newSize);
        if (newSize < size) {
          Arrays.fill(model, newSize, size, (byte) 0);
          size = newSize;
        }
      } else {
        int offset = rnd.nextInt(fileMax - 1);
        int length = 1 + rnd.nextInt(Math.min(2 * BLOCK, fileMax - offset));
        assertArrayEquals(
            Arrays.copyOfRange(model, offset, Math.max(offset, Math.min(offset + length, size))),
            readFileRange(store, 8, offset, length, size), "step " + step);
      }
    }
    try (ChunkStore reopened = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertArrayEquals(Arrays.copyOf(model, size), readFileRange(reopened, 8, 0, size, size));
    }
    assertEquals(onDiskBytes(), store.usedBytes());
  }

  // ------------------------------------------------------------------ helpers

  /** What a client does: split by chunk, zero-fill short chunks up to the file size. */
  static byte[] readFileRange(ChunkStore s, long inode, long offset, int length, long size)
      throws IOException {
    int n = (int) Math.max(0, Math.min(offset + length, size) - offset);
    byte[] out = new byte[n];
    int done = 0;
    while (done < n) {
      long pos = offset + done;
      int index = (int) (pos / CHUNK);
      int within = (int) (pos % CHUNK);
      int want = Math.min(n - done, CHUNK - within);
      ByteBuffer got = s.read(inode, index, within, want);
      got.get(out, done, got.remaining()); // rest stays zero: a hole or past the chunk end
      done += want;
    }
    return out;
  }

  void writeAt(long inode, long offset, byte[] bytes) throws IOException {
    writeAt(store, inode, offset, bytes);
  }

  static void writeAt(ChunkStore store, long inode, long offset, byte[] bytes)
      throws IOException {
    int done = 0;
    while (done < bytes.length) {
      long pos = offset + done;
      int within = (int) (pos % CHUNK);
      int n = Math.min(bytes.length - done, CHUNK - within);
      store.write(inode, (int) (pos / CHUNK), within, ByteBuffer.wrap(bytes, done, n), false);
      done += n;
    }
  }

  void writeFile(long inode, byte[] bytes) throws IOException {
    writeFile(store, inode, bytes);
  }

  static void writeFile(ChunkStore store, long inode, byte[] bytes) throws IOException {
    writeAt(store, inode, 0, bytes);
  }

  void assertReadsVerifiedAfterReopen(long inode, int index, byte[] expected)
      throws IOException {
    try (ChunkStore reopened = new ChunkStore(dir, CHUNK, BLOCK)) {
      assertArrayEquals(expected, bytes(reopened.read(inode, index, 0, CHUNK)));
    }
  }

  long onDiskBytes() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }).sum();
    }
  }

  static void flipByte(Path file, long position) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      ch.read(one, position);
      one.put(0, (byte) (one.get(0) ^ 0x40));
      one.rewind();
      ch.write(one, position);
    }
  }

  // ------------------------------------------------------------------ link: a second name

  @Test
  void theSecondNameReadsTheSameBytesAtTheSameVersionAndOutlivesTheFirst() throws IOException {
    byte[] data = random(7, CHUNK);
    store.write(7, 0, 0, ByteBuffer.wrap(data), true, 3);
    long used = store.usedBytes();
    assertEquals(ChunkStore.Linked.MADE, store.link(7, 0, 9, 4, 3));
    assertArrayEquals(data, bytes(store.read(9, 4, 0, CHUNK, 3)));
    assertEquals(3, store.version(9, 4));
    assertEquals(CHUNK, store.info(9, 4).length());
    assertEquals(ChunkStore.Linked.ALREADY, store.link(7, 0, 9, 4, 3), "a retry");
    store.deleteChunk(7, 0);
    assertNull(store.info(7, 0));
    assertArrayEquals(data, bytes(store.read(9, 4, 0, CHUNK, 3)),
        "deleting the first name leaves the bytes to the second");
    assertEquals(used, store.usedBytes(), "counted once per name, and one name is left");
  }

  @Test
  void noCopyAnotherVersionOrATargetOfItsOwnIsRefusedAndChangesNothing() throws IOException {
    store.write(7, 0, 0, ByteBuffer.wrap(random(7, 1000)), true, 3);
    byte[] own = random(8, 500);
    store.write(9, 1, 0, ByteBuffer.wrap(own), true, 1);
    assertEquals(ChunkStore.Linked.NO_COPY, store.link(8, 0, 9, 4, 3));
    assertEquals(ChunkStore.Linked.OTHER_VERSION, store.link(7, 0, 9, 4, 2));
    assertNull(store.info(9, 4));
    assertEquals(ChunkStore.Linked.TARGET_EXISTS, store.link(7, 0, 9, 1, 3));
    assertArrayEquals(own, bytes(store.read(9, 1, 0, 500, 1)), "the target's own copy is intact");
  }

  @Test
  void theSecondNameSurvivesARestart() throws IOException {
    byte[] data = random(7, 3 * BLOCK + 5);
    store.write(7, 2, 0, ByteBuffer.wrap(data), true, 5);
    assertEquals(ChunkStore.Linked.MADE, store.link(7, 2, 9, 0, 5));
    reopen();
    assertEquals(5, store.version(9, 0), "its version sidecar is its own, on disk");
    assertArrayEquals(data, bytes(store.read(9, 0, 0, data.length, 5)));
  }

  static byte[] random(long seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  static byte[] bytes(ByteBuffer buffer) {
    byte[] b = new byte[buffer.remaining()];
    buffer.duplicate().get(b);
    return b;
  }
}
