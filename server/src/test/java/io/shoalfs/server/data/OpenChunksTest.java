package io.shoalfs.server.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenChunksTest {
  static final int BLOCK = 4096;

  @TempDir Path dir;

  @Test
  void anEvictedChunkStaysUsableUntilItsLeaseIsReturned() throws IOException {
    ChunkLayout layout = new ChunkLayout(dir);
    OpenChunks open = new OpenChunks(1);
    ChunkKey a = new ChunkKey(1, 0);
    ChunkKey b = new ChunkKey(2, 0);

    OpenChunks.Lease leaseA = open.acquire(a, () -> ChecksummedChunk.open(layout, a, BLOCK,
        true, DiskForce.FSYNC));
    ChecksummedChunk chunkA = leaseA.chunk();
    try (OpenChunks.Lease leaseB = open.acquire(b, () -> ChecksummedChunk.open(layout, b,
        BLOCK, true, DiskForce.FSYNC))) {
      assertEquals(1, open.size()); // a was evicted...
      chunkA.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3})); // ...but still works
      leaseB.chunk().write(0, ByteBuffer.wrap(new byte[] {4}));
    }
    assertEquals(3, chunkA.length());
    leaseA.close();
    assertThrows(ClosedChannelException.class, () -> chunkA.read(0, 3)); // closed on release
  }

  @Test
  void missingChunksAreNotCachedAndClosedCacheRefuses() throws IOException {
    ChunkLayout layout = new ChunkLayout(dir);
    OpenChunks open = new OpenChunks(4);
    ChunkKey a = new ChunkKey(1, 0);
    assertNull(open.acquire(a, () -> ChecksummedChunk.open(layout, a, BLOCK, false,
        DiskForce.FSYNC)));
    assertEquals(0, open.size());
    open.close();
    assertThrows(IOException.class,
        () -> open.acquire(a, () -> ChecksummedChunk.open(layout, a, BLOCK, true,
        DiskForce.FSYNC)));
  }
}
