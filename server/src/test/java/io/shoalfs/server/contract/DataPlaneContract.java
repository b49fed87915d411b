package io.shoalfs.server.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.server.DataPlaneOrchestrator;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link DataPlaneOrchestrator} promises the server layer, whatever the topology:
 * {@code handle} returns at once and its future always completes with a status (the caller is
 * an event loop, and a failure must reach the client as an errno); a write answered OK reads
 * back; one not answered OK never reads back as other bytes; the storage figures add up. A data
 * plane that stores nothing (a metadata server's) passes it by refusing every call.
 */
public abstract class DataPlaneContract {
  private DataPlaneOrchestrator plane;

  /** A started plane, with chunks of at least 1 MiB. */
  protected abstract DataPlaneOrchestrator start() throws Exception;

  @BeforeEach
  void startPlane() throws Exception {
    plane = start();
  }

  @AfterEach
  void closePlane() throws Exception {
    plane.close();
  }

  @Test
  void everyCallIsAnsweredWithAStatus() throws Exception {
    assertNotEquals(null, call(write(5, 0, new byte[100])).getStatus());
    assertNotEquals(null, call(read(5, 0, 100)).getStatus());
    DataResponse empty = call(DataRequest.getDefaultInstance());
    assertNotEquals(Status.OK, empty.getStatus(), "a request with no operation is not OK");
  }

  @Test
  void aWriteAnsweredOkReadsBackAndOtherwiseNothingDoes() throws Exception {
    byte[] bytes = new byte[200_000];
    new Random(7).nextBytes(bytes);
    DataResponse written = call(write(9, 4096, bytes));
    DataResponse read = call(read(9, 4096, bytes.length));
    if (written.getStatus() == Status.OK) {
      assertEquals(Status.OK, read.getStatus(), read.getError());
      assertArrayEquals(bytes, read.getData().toByteArray());
    } else {
      assertTrue(read.getStatus() != Status.OK || read.getData().isEmpty(),
          "a refused write read back as " + read.getData().size() + " bytes");
    }
  }

  @Test
  void storageFiguresAddUp() {
    DataPlaneOrchestrator.StorageStats s = plane.storageStats();
    assertTrue(s.totalBytes() >= 0 && s.freeBytes() >= 0 && s.usedBytes() >= 0, s.toString());
    assertTrue(s.freeBytes() <= s.totalBytes(), s.toString());
  }

  private DataResponse call(DataRequest request) throws Exception {
    CompletableFuture<DataResponse> answer = plane.handle(request);
    return answer.get(30, TimeUnit.SECONDS);
  }

  private static DataRequest write(long inode, long offset, byte[] data) {
    return DataRequest.newBuilder().setWrite(WriteChunkOp.newBuilder()
        .setChunk(ChunkId.newBuilder().setInode(inode).setIndex(0))
        .setOffset(offset).setData(ByteString.copyFrom(data)).setSync(true)).build();
  }

  private static DataRequest read(long inode, long offset, int length) {
    return DataRequest.newBuilder().setRead(ReadChunkOp.newBuilder()
        .setChunk(ChunkId.newBuilder().setInode(inode).setIndex(0))
        .setOffset(offset).setLength(length)).build();
  }
}
