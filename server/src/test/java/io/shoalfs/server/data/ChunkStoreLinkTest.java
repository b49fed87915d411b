package io.shoalfs.server.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ChunkStore#link}: a chunk copy under a second name, its bytes shared, not copied. */
class ChunkStoreLinkTest {
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

  @Test
  void theSecondNameReadsTheSameBytesAtTheSameVersionAndOutlivesTheFirst() throws IOException {
    byte[] data = random(CHUNK);
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
    store.write(7, 0, 0, ByteBuffer.wrap(random(1000)), true, 3);
    byte[] own = random(500);
    store.write(9, 1, 0, ByteBuffer.wrap(own), true, 1);
    assertEquals(ChunkStore.Linked.NO_COPY, store.link(8, 0, 9, 4, 3));
    assertEquals(ChunkStore.Linked.OTHER_VERSION, store.link(7, 0, 9, 4, 2));
    assertNull(store.info(9, 4));
    assertEquals(ChunkStore.Linked.TARGET_EXISTS, store.link(7, 0, 9, 1, 3));
    assertArrayEquals(own, bytes(store.read(9, 1, 0, 500, 1)), "the target's own copy is intact");
  }

  @Test
  void theSecondNameSurvivesARestart() throws IOException {
    byte[] data = random(3 * BLOCK + 5);
    store.write(7, 2, 0, ByteBuffer.wrap(data), true, 5);
    assertEquals(ChunkStore.Linked.MADE, store.link(7, 2, 9, 0, 5));
    store.close();
    store = new ChunkStore(dir, CHUNK, BLOCK);
    assertEquals(5, store.version(9, 0), "its version sidecar is its own, on disk");
    assertArrayEquals(data, bytes(store.read(9, 0, 0, data.length, 5)));
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] b = new byte[buffer.remaining()];
    buffer.get(b);
    return b;
  }
}
