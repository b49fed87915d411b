package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The client core's byte I/O, over the chunk store in maps: what the S3 gateway relies on. */
class ClientCoreTest {
  private static final long CHUNK = 16;
  private static final long INODE = 9;

  private final ChunkStoreTransport store = new ChunkStoreTransport(CHUNK);
  private final ClientCore core = new ClientCore(store, CHUNK, Duration.ofSeconds(5));

  @Test
  void bytesWrittenAcrossChunksReadBackPieceByPiece() throws Exception {
    byte[] bytes = new byte[50];
    new Random(3).nextBytes(bytes);
    core.write(INODE, 0, bytes, 30, false);
    core.write(INODE, 30, Arrays.copyOfRange(bytes, 30, 50), 20, true);
    core.forgetLocations(INODE);
    byte[] back = new byte[50];
    for (long at = 0; at < 50; at += CHUNK) {
      int n = (int) Math.min(CHUNK, 50 - at);
      core.finishRead(core.startRead(INODE, at, n)).copyTo(back, (int) at);
    }
    assertArrayEquals(bytes, back);
    assertEquals(CHUNK, core.chunkSize());
  }

  @Test
  void aChunkNeverWrittenOrWrittenShortReadsAsZeros() throws Exception {
    core.write(INODE, 2 * CHUNK, new byte[] {7, 7, 7}, 3, false);
    assertArrayEquals(new byte[(int) CHUNK], core.finishRead(core.startRead(INODE, 0, (int) CHUNK))
        .toByteArray(), "a hole");
    byte[] wanted = new byte[8];
    wanted[0] = 7;
    wanted[1] = 7;
    wanted[2] = 7;
    assertArrayEquals(wanted, core.finishRead(core.startRead(INODE, 2 * CHUNK, 8)).toByteArray(),
        "a chunk written short of the range");
  }
}
