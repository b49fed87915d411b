package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static io.shoalfs.server.data.ChunkStoreTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.DeleteFileOp;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.StatFsOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SyncFileOp;
import io.shoalfs.proto.TruncateFileOp;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.server.DataPlaneOrchestrator.StorageStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalDataPlaneTest {
  @TempDir Path dir;
  LocalDataPlane plane;

  @BeforeEach
  void start() throws IOException {
    plane = new LocalDataPlane(DataPlaneSettings.defaults(dir).withSizes(CHUNK, BLOCK));
    plane.start();
  }

  @AfterEach
  void close() throws IOException {
    plane.close();
  }

  @Test
  void writeReadTruncateSyncDeleteThroughHandle() throws Exception {
    byte[] bytes = random(1, 2 * BLOCK + 10);
    assertEquals(Status.OK, call(write(7, 1, 100, bytes, true)).getStatus());

    DataResponse read = call(read(7, 1, 100, 4 * BLOCK));
    assertEquals(Status.OK, read.getStatus());
    assertArrayEquals(bytes, read.getData().toByteArray());

    assertEquals(Status.OK, call(DataRequest.newBuilder()
        .setTruncate(TruncateFileOp.newBuilder().setInode(7).setSize(CHUNK + 600)).build())
        .getStatus());
    assertArrayEquals(Arrays.copyOf(bytes, 500),
        call(read(7, 1, 100, 4 * BLOCK)).getData().toByteArray());

    assertEquals(Status.OK, call(DataRequest.newBuilder()
        .setSync(SyncFileOp.newBuilder().setInode(7)).build()).getStatus());
    assertEquals(Status.OK, call(DataRequest.newBuilder()
        .setDelete(DeleteFileOp.newBuilder().setInode(7)).build()).getStatus());
    DataResponse gone = call(read(7, 1, 0, 10));
    assertEquals(Status.OK, gone.getStatus());
    assertTrue(gone.getData().isEmpty());
  }

  @Test
  void missingChunkReadsOkAndEmpty() throws Exception {
    DataResponse r = call(read(404, 0, 0, 4096));
    assertEquals(Status.OK, r.getStatus());
    assertEquals(0, r.getData().size());
  }

  @Test
  void rangesPastTheChunkAreEinval() throws Exception {
    assertEquals(Status.EINVAL, call(write(1, 0, CHUNK - 1, new byte[2], false)).getStatus());
    assertEquals(Status.EINVAL, call(read(1, 0, CHUNK, 1)).getStatus());
    // uint32 values past Integer.MAX_VALUE arrive negative: still EINVAL, not a crash.
    assertEquals(Status.EINVAL, call(read(1, -1, 0, 1)).getStatus());
    assertEquals(Status.EINVAL, call(read(1, 0, 0, -1)).getStatus());
  }

  @Test
  void corruptBlockIsCorruptNeverData() throws Exception {
    assertEquals(Status.OK, call(write(3, 0, 0, random(2, 2 * BLOCK), true)).getStatus());
    ChunkStoreTest.flipByte(new ChunkLayout(dir).dataFile(new ChunkKey(3, 0)), BLOCK + 1);
    DataResponse r = call(read(3, 0, BLOCK, 10));
    assertEquals(Status.CORRUPT, r.getStatus());
    assertTrue(r.getData().isEmpty());
    assertTrue(r.getError().contains("block 1"), r.getError());
    assertEquals(Status.OK, call(read(3, 0, 0, 10)).getStatus());
  }

  /** /dev/full fails every write with the kernel's ENOSPC: a real full disk, in miniature. */
  @Test
  void aFullDiskIsEnospcAndTheWriteIsNotReportedDone() throws Exception {
    Path full = Path.of("/dev/full");
    assertTrue(Files.isWritable(full), "this test needs /dev/full");
    Path chunk = new ChunkLayout(dir).dataFile(new ChunkKey(1, 0));
    Files.createDirectories(chunk.getParent());
    Files.createSymbolicLink(chunk, full);
    DataResponse r = call(write(1, 0, 0, random(3, 5000), true));
    assertEquals(Status.ENOSPC, r.getStatus(), r.getError());
    assertEquals(0, plane.storageStats().usedBytes());
  }

  @Test
  void statFsAndStorageStatsReportTheVolumeAndTheChunks() throws Exception {
    call(write(3, 0, 0, new byte[1000], false));
    DataResponse r = call(DataRequest.newBuilder().setStatFs(StatFsOp.getDefaultInstance())
        .build());
    assertEquals(Status.OK, r.getStatus());
    assertTrue(r.getTotalBytes() > 0);
    assertTrue(r.getFreeBytes() > 0 && r.getFreeBytes() <= r.getTotalBytes());
    assertEquals(1000 + 4, r.getUsedBytes());
    StorageStats stats = plane.storageStats();
    assertEquals(r.getTotalBytes(), stats.totalBytes());
    assertEquals(1004, stats.usedBytes());
  }

  @Test
  void emptyRequestIsBadRequest() throws Exception {
    assertEquals(Status.BAD_REQUEST, call(DataRequest.getDefaultInstance()).getStatus());
  }

  @Test
  void requestsAfterCloseAreUnavailable() throws Exception {
    plane.close();
    assertEquals(Status.UNAVAILABLE, call(read(1, 0, 0, 1)).getStatus());
  }

  @Test
  void requestsBeforeStartAreUnavailable() throws Exception {
    try (LocalDataPlane idle = new LocalDataPlane(DataPlaneSettings.defaults(dir))) {
      assertEquals(Status.UNAVAILABLE,
          idle.handle(read(1, 0, 0, 1)).get(10, TimeUnit.SECONDS).getStatus());
    }
  }

  DataResponse call(DataRequest request) throws Exception {
    return plane.handle(request).get(10, TimeUnit.SECONDS);
  }

  static DataRequest write(long inode, int index, long offset, byte[] data, boolean sync) {
    return DataRequest.newBuilder().setWrite(WriteChunkOp.newBuilder()
        .setChunk(ChunkId.newBuilder().setInode(inode).setIndex(index))
        .setOffset(offset).setData(ByteString.copyFrom(data)).setSync(sync)).build();
  }

  static DataRequest read(long inode, int index, long offset, int length) {
    return DataRequest.newBuilder().setRead(ReadChunkOp.newBuilder()
        .setChunk(ChunkId.newBuilder().setInode(inode).setIndex(index))
        .setOffset(offset).setLength(length)).build();
  }
}
