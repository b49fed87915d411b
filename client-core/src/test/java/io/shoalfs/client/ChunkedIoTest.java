package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkedIoTest {
  private static final long CHUNK = 16;
  private static final long INODE = 7;

  private final ChunkStoreTransport store = new ChunkStoreTransport(CHUNK);
  private final ChunkLocations locations =
      new ChunkLocations(new MetaClient(store, Duration.ofSeconds(5), 1), 100);
  private final ChunkedIo io = new ChunkedIo(store, locations, CHUNK, Duration.ofSeconds(5));

  @Test
  void aFileThisMountCreatedIsAllocatedWithoutAskingWhereItsChunksAre() throws Exception {
    locations.created(INODE);
    io.write(INODE, 0, bufferWith(randomBytes(20)), 20, false);
    assertEquals(List.of("ALLOCATE_CHUNK", "ALLOCATE_CHUNK"), metaOps());

    // Opened since (close-to-open): the chunk map is asked again, as for any file.
    locations.forget(INODE);
    store.metaRequests.clear();
    io.write(INODE, 0, bufferWith(randomBytes(4)), 4, false);
    assertEquals(List.of("GET_CHUNK_LOCATIONS"), metaOps());
  }

  @Test
  void aChunkPlacedWithTheCreateIsWrittenWithoutAnyMetadataCall() throws Exception {
    locations.created(INODE);
    // What MountFiles.create remembers from the create's answer (MakeNodeOp.first_chunk).
    locations.remember(List.of(ChunkLocation.newBuilder()
        .setChunk(ChunkLocations.chunkId(INODE, 0)).setVersion(1).addReplicas("m1").build()));
    byte[] bytes = randomBytes(10);
    io.write(INODE, 0, bufferWith(bytes), bytes.length, false);
    assertEquals(List.of(), metaOps());
    assertArrayEquals(bytes, store.copyOf("m1", INODE, 0));
    // Past the placed chunk, the next one is allocated as before.
    io.write(INODE, CHUNK, bufferWith(bytes), bytes.length, false);
    assertEquals(List.of("ALLOCATE_CHUNK"), metaOps());
  }

  private List<String> metaOps() {
    return store.metaRequests.stream().map(r -> r.getOpCase().name()).toList();
  }

  @Test
  void splitsARangeAtChunkBoundaries() {
    assertEquals(List.of(
            new ChunkedIo.Piece(0, 10, 6, 0),
            new ChunkedIo.Piece(1, 0, 16, 6),
            new ChunkedIo.Piece(2, 0, 3, 22)),
        ChunkedIo.split(10, 25, CHUNK));
  }

  @Test
  void aRangeInsideOneChunkIsOnePiece() {
    assertEquals(List.of(new ChunkedIo.Piece(3, 0, 16, 0)), ChunkedIo.split(48, 16, CHUNK));
    assertEquals(List.of(), ChunkedIo.split(48, 0, CHUNK));
  }

  @Test
  void theDefaultChunkSizeIs64MiB() {
    long mib64 = 64L << 20;
    assertEquals(List.of(
            new ChunkedIo.Piece(0, mib64 - 4, 4, 0),
            new ChunkedIo.Piece(1, 0, 4, 4)),
        ChunkedIo.split(mib64 - 4, 8, ShoalFuseConfig.DEFAULT_CHUNK_SIZE));
  }

  @Test
  void writeThenReadAcrossChunksReturnsTheSameBytes() throws Exception {
    byte[] data = randomBytes(50);
    io.write(INODE, 5, bufferWith(data), data.length, false);

    assertEquals(4, store.dataRequests.size(), "5..55 touches chunks 0, 1, 2 and 3");
    assertEquals(1, store.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size(),
        "one chunk map call for the whole range");
    KernelBuffer out = buffer(50);
    assertEquals(50, io.read(INODE, 5, 50, out, () -> 55));
    assertArrayEquals(data, bytesOf(out, 50));
  }

  @Test
  void readIsBoundedByTheFileSize() throws Exception {
    byte[] data = randomBytes(20);
    io.write(INODE, 0, bufferWith(data), data.length, false);

    KernelBuffer out = buffer(100);
    assertEquals(20, io.read(INODE, 0, 100, out, () -> 20));
    assertArrayEquals(data, bytesOf(out, 20));
    assertEquals(0, io.read(INODE, 20, 10, buffer(10), () -> 20), "at the end: nothing");
    assertEquals(0, io.read(INODE, 90, 10, buffer(10), () -> 20), "past the end: nothing");
  }

  @Test
  void holesInsideTheFileReadAsZeros() throws Exception {
    // Bytes 0..3 and 40..43 written; the file is 44 bytes; chunk 1 was never written.
    io.write(INODE, 0, bufferWith(new byte[] {1, 2, 3, 4}), 4, false);
    io.write(INODE, 40, bufferWith(new byte[] {5, 6, 7, 8}), 4, false);

    KernelBuffer out = buffer(44);
    out.fill((byte) 0x55); // what was in the kernel's buffer before
    assertEquals(44, io.read(INODE, 0, 44, out, () -> 44));
    byte[] expected = new byte[44];
    System.arraycopy(new byte[] {1, 2, 3, 4}, 0, expected, 0, 4);
    System.arraycopy(new byte[] {5, 6, 7, 8}, 0, expected, 40, 4);
    assertArrayEquals(expected, bytesOf(out, 44));
  }

  @Test
  void theFileSizeIsAskedOnlyWhenAChunkComesBackShort() throws Exception {
    byte[] data = randomBytes(32);
    io.write(INODE, 0, bufferWith(data), data.length, false);

    assertEquals(32, io.read(INODE, 0, 32, buffer(32),
        () -> fail("every byte was present: no need for the size")));
  }

  @Test
  void aFailedChunkFailsTheWholeRead() throws Exception {
    io.write(INODE, 0, bufferWith(randomBytes(40)), 40, false);
    store.failWith = Status.CORRUPT;
    RpcException e = assertThrows(RpcException.class,
        () -> io.read(INODE, 0, 40, buffer(40), () -> 40));
    assertEquals(Status.CORRUPT, e.status());
  }

  @Test
  void aFailedChunkFailsTheWholeWrite() {
    store.failWith = Status.ENOSPC;
    RpcException e = assertThrows(RpcException.class,
        () -> io.write(INODE, 0, bufferWith(randomBytes(40)), 40, false));
    assertEquals(Status.ENOSPC, e.status());
  }

  @Test
  void theSyncFlagReachesEveryChunkWrite() throws Exception {
    io.write(INODE, 10, bufferWith(randomBytes(20)), 20, true);
    assertEquals(2, store.dataRequests.size());
    for (DataRequest r : store.dataRequests) {
      assertEquals(true, r.getWrite().getSync());
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  static KernelBuffer buffer(int size) {
    return KernelBuffer.of(size);
  }

  static KernelBuffer bufferWith(byte[] bytes) {
    return KernelBuffer.with(bytes);
  }

  static byte[] bytesOf(KernelBuffer p, int n) {
    return p.bytes(n);
  }
}
