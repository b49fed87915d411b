package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static io.shoalfs.server.data.ChunkStoreTest.random;
import static io.shoalfs.server.data.DataNode.chunk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.ChunkInfoOp;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.DeleteChunkOp;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Versioned, chained writes and reads across three real data nodes over loopback RPC. */
class ChainReplicationTest {
  @TempDir Path dirA;
  @TempDir Path dirB;
  @TempDir Path dirC;
  final List<DownstreamClients> clients = new ArrayList<>();
  DataNode a;
  DataNode b;
  DataNode c;

  @BeforeEach
  void start() throws Exception {
    a = node("a", dirA, 8);
    b = node("b", dirB, 8);
    c = node("c", dirC, 8);
  }

  @AfterEach
  void stop() throws Exception {
    for (DataNode n : new DataNode[] {a, b, c}) {
      n.close();
    }
    clients.forEach(DownstreamClients::close);
  }

  DataNode node(String id, Path dir, int ioThreads) throws Exception {
    DownstreamClients downstream = new DownstreamClients();
    clients.add(downstream);
    DataPlaneSettings settings = new DataPlaneSettings(dir, CHUNK, BLOCK, ioThreads, 1024,
        Duration.ofHours(1), 256);
    return DataNode.start(id, dir, settings, new ReplicaSettings(id, downstream, null,
        Duration.ofHours(1), OrphanCollector.DEFAULT_GRACE));
  }

  @Test
  void aChainWriteLandsOnEveryReplicaWithTheVersion() throws Exception {
    byte[] bytes = random(11, 2 * BLOCK + 10);
    DataResponse r = a.call(write(5, 1, 100, bytes, 3, b, c));
    assertEquals(Status.OK, r.getStatus(), r.getError());
    for (DataNode n : new DataNode[] {a, b, c}) {
      assertArrayEquals(bytes, bytes(n.store().read(5, 1, 100, bytes.length)), n.id);
      assertEquals(3, n.store().version(5, 1), n.id);
    }
  }

  /**
   * The head sends the write on before its own copy is written: with the head's copy stalled
   * (its chunk lock held), the rest of the chain has the data, and the answer waits for the head.
   */
  @Test
  void theChainIsWrittenWhileTheHeadWritesItsCopy() throws Exception {
    byte[] bytes = random(12, 3000);
    Lock headCopy = a.store().lockOf(6, 0).writeLock();
    headCopy.lock();
    CompletableFuture<DataResponse> answer;
    try {
      answer = a.plane.handle(write(6, 0, 0, bytes, 2, b, c));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (lengthOf(c, 6, 0) < bytes.length && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(bytes.length, lengthOf(b, 6, 0), "b wrote before the head");
      assertEquals(bytes.length, lengthOf(c, 6, 0), "c wrote before the head");
      assertFalse(answer.isDone(), "the answer waits for the head's own copy");
    } finally {
      headCopy.unlock();
    }
    assertEquals(Status.OK, answer.get(20, TimeUnit.SECONDS).getStatus());
    assertArrayEquals(bytes, bytes(a.store().read(6, 0, 0, bytes.length)));
  }

  @Test
  void aDeadTailIsReplicaFailedNamingItAndTheRestStillWrote() throws Exception {
    c.close();
    byte[] bytes = random(12, 1000);
    DataResponse r = a.call(write(6, 0, 0, bytes, 1, b, c));
    assertEquals(Status.REPLICA_FAILED, r.getStatus());
    assertEquals("c", r.getFailedMember(), r.getError());
    assertArrayEquals(bytes, bytes(a.store().read(6, 0, 0, 1000)));
    assertArrayEquals(bytes, bytes(b.store().read(6, 0, 0, 1000)));
  }

  @Test
  void aDeadMiddleIsReplicaFailedNamingIt() throws Exception {
    b.close();
    DataResponse r = a.call(write(6, 0, 0, random(13, 1000), 1, b, c));
    assertEquals(Status.REPLICA_FAILED, r.getStatus());
    assertEquals("b", r.getFailedMember(), r.getError());
    assertEquals(1000, a.store().info(6, 0).length());
    assertNull(c.store().info(6, 0), "c was never reached");
  }

  @Test
  void writeVersionRules() throws Exception {
    byte[] first = random(14, 500);
    assertEquals(Status.OK, a.call(write(7, 0, 0, first, 5)).getStatus());
    DataResponse stale = a.call(write(7, 0, 0, random(15, 500), 4));
    assertEquals(Status.STALE_VERSION, stale.getStatus());
    assertEquals(5, stale.getVersion());
    assertArrayEquals(first, bytes(a.store().read(7, 0, 0, 500)), "a stale write changes nothing");
    assertEquals(Status.OK, a.call(write(7, 0, 0, first, 5)).getStatus());
    assertEquals(Status.OK, a.call(write(7, 0, 0, first, 6)).getStatus());
    assertEquals(6, a.store().version(7, 0));
    // Unversioned (single-node) writes are never checked.
    assertEquals(Status.OK, a.call(write(7, 0, 0, first, 0)).getStatus());
    assertEquals(6, a.store().version(7, 0));
  }

  @Test
  void readVersionRules() throws Exception {
    byte[] bytes = random(16, 700);
    assertEquals(Status.OK, a.call(write(8, 2, 0, bytes, 6)).getStatus());
    DataResponse stale = a.call(read(8, 2, 0, 700, 5));
    assertEquals(Status.STALE_VERSION, stale.getStatus());
    assertEquals(6, stale.getVersion());
    assertTrue(stale.getData().isEmpty());
    for (long version : new long[] {0, 6, 7}) { // 7: a bump no write has reached yet
      DataResponse ok = a.call(read(8, 2, 0, 700, version));
      assertEquals(Status.OK, ok.getStatus(), "version " + version);
      assertArrayEquals(bytes, ok.getData().toByteArray());
    }
  }

  @Test
  void aNewerReplicaDownTheChainIsStaleVersionNotAFailure() throws Exception {
    assertEquals(Status.OK, b.call(write(9, 0, 0, new byte[10], 9)).getStatus());
    DataResponse r = a.call(write(9, 0, 0, new byte[10], 5, b));
    assertEquals(Status.STALE_VERSION, r.getStatus());
    assertEquals(9, r.getVersion());
    assertFalse(r.getError().isEmpty());
  }

  @Test
  void chunkInfoAndDeleteChunk() throws Exception {
    DataResponse absent = a.call(info(10, 3));
    assertEquals(Status.OK, absent.getStatus());
    assertEquals(0, absent.getVersion());
    assertEquals(0, absent.getLength());

    assertEquals(Status.OK, a.call(write(10, 3, 0, random(17, 3000), 4)).getStatus());
    assertEquals(Status.OK, a.call(write(10, 4, 0, random(18, 10), 4)).getStatus());
    DataResponse present = a.call(info(10, 3));
    assertEquals(4, present.getVersion());
    assertEquals(3000, present.getLength());

    assertEquals(Status.OK, a.call(DataRequest.newBuilder()
        .setDeleteChunk(DeleteChunkOp.newBuilder().setChunk(chunk(10, 3))).build()).getStatus());
    assertEquals(0, a.call(info(10, 3)).getLength());
    assertEquals(0, a.call(info(10, 3)).getVersion());
    ChunkLayout layout = new ChunkLayout(dirA);
    assertFalse(Files.exists(layout.versionFile(new ChunkKey(10, 3))));
    assertFalse(Files.exists(layout.dataFile(new ChunkKey(10, 3))));
    assertEquals(10, a.store().info(10, 4).length(), "the other chunk stays");
  }

  /**
   * One disk thread per node, and chains running both ways at once: if a forward held the
   * disk thread while waiting for the peer, each node would wait for the other forever.
   */
  @Test
  void crossedChainsOnOneThreadPoolsDoNotDeadlock() throws Exception {
    try (DataNode x = node("x", dirA.resolve("x"), 1);
        DataNode y = node("y", dirB.resolve("y"), 1)) {
      List<CompletableFuture<DataResponse>> calls = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        calls.add(x.plane.handle(write(100 + i, 0, 0, random(i, 5000), 1, y)));
        calls.add(y.plane.handle(write(200 + i, 0, 0, random(i, 5000), 1, x)));
      }
      for (CompletableFuture<DataResponse> call : calls) {
        assertEquals(Status.OK, call.get(30, TimeUnit.SECONDS).getStatus());
      }
      assertEquals(5000, x.store().info(239, 0).length());
      assertEquals(5000, y.store().info(139, 0).length());
    }
  }

  static long lengthOf(DataNode n, long inode, int index) throws Exception {
    StoredChunk chunk = n.store().info(inode, index);
    return chunk == null ? 0 : chunk.length();
  }

  static byte[] bytes(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }

  static DataRequest write(long inode, int index, long offset, byte[] bytes, long version,
      DataNode... chain) {
    WriteChunkOp.Builder op = WriteChunkOp.newBuilder().setChunk(chunk(inode, index))
        .setOffset(offset).setData(ByteString.copyFrom(bytes)).setVersion(version);
    for (DataNode n : chain) {
      op.addChain(n.address).addChainIds(n.id);
    }
    return DataRequest.newBuilder().setWrite(op).build();
  }

  static DataRequest read(long inode, int index, long offset, int length, long version) {
    return DataRequest.newBuilder().setRead(ReadChunkOp.newBuilder().setChunk(chunk(inode, index))
        .setOffset(offset).setLength(length).setVersion(version)).build();
  }

  static DataRequest info(long inode, int index) {
    return DataRequest.newBuilder().setChunkInfo(ChunkInfoOp.newBuilder()
        .setChunk(chunk(inode, index))).build();
  }
}
