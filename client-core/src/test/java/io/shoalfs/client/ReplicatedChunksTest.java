package io.shoalfs.client;

import static io.shoalfs.client.ChunkedIoTest.bytesOf;
import static io.shoalfs.client.ChunkedIoTest.buffer;
import static io.shoalfs.client.ChunkedIoTest.bufferWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReportReplicaFailureOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.rpc.Errno;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The client against three members holding every chunk three times (factor 3). */
class ReplicatedChunksTest {
  private static final long CHUNK = 16;
  private static final long INODE = 9;
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final ChunkStoreTransport cluster = new ChunkStoreTransport(CHUNK, 3, 3);
  private final MetaClient meta = new MetaClient(cluster, TIMEOUT, 1);
  private final ChunkLocations locations = new ChunkLocations(meta, 100);
  // No retry window: the give-up tests count exactly MAX_ATTEMPTS attempts, without pauses.
  private final ChunkedIo io = new ChunkedIo(cluster, locations, CHUNK, TIMEOUT, Duration.ZERO);

  // ------------------------------------------------------------------ writes

  @Test
  void aWriteGoesToTheHeadWithTheOtherReplicasAsItsChain() throws Exception {
    byte[] data = bytes(10, 1);
    io.write(INODE, 3, bufferWith(data), data.length, false);

    assertEquals(1, cluster.metaOf(MetaRequest.OpCase.ALLOCATE_CHUNK).size());
    MetaRequest allocate = cluster.metaOf(MetaRequest.OpCase.ALLOCATE_CHUNK).get(0);
    assertEquals(ChunkStoreTransport.chunk(INODE, 0), allocate.getAllocateChunk().getChunk());
    assertEquals(0, allocate.getAllocateChunk().getCandidatesCount(), "the server fills these");
    assertTrue(allocate.getClientId() != 0 && allocate.getRequestSeq() != 0, "a mutation");

    assertEquals(List.of("m1"), cluster.sentTo(DataRequest.OpCase.WRITE));
    WriteChunkOp op = cluster.dataRequests.get(0).getWrite();
    assertEquals(1, op.getVersion());
    assertEquals(List.of("10.0.0.2:7000", "10.0.0.3:7000"), op.getChainList());
    assertEquals(List.of("m2", "m3"), op.getChainIdsList());
    for (String m : List.of("m1", "m2", "m3")) {
      assertArrayEquals(data, Arrays.copyOfRange(cluster.copyOf(m, INODE, 0), 3, 13), m);
    }

    io.write(INODE, 0, bufferWith(bytes(2, 2)), 2, false);
    assertEquals(1, cluster.metaOf(MetaRequest.OpCase.ALLOCATE_CHUNK).size(),
        "the location is cached: no second allocation");
  }

  @Test
  void aFailedReplicaInTheChainIsReportedAndTheWriteRetriedWithoutIt() throws Exception {
    io.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false); // chunk 0 at v1 on m1, m2, m3
    cluster.unreachable.add("m3"); // still "up" in the view: only the chain finds out

    byte[] data = bytes(8, 2);
    io.write(INODE, 4, bufferWith(data), data.length, false);

    List<MetaRequest> reports = cluster.metaOf(MetaRequest.OpCase.REPORT_REPLICA_FAILURE);
    assertEquals(1, reports.size());
    assertEquals(ReportReplicaFailureOp.newBuilder()
        .setChunk(ChunkStoreTransport.chunk(INODE, 0)).setVersion(1).setMember("m3").build(),
        reports.get(0).getReportReplicaFailure());
    WriteChunkOp retry = cluster.dataRequests.get(cluster.dataRequests.size() - 1).getWrite();
    assertEquals(2, retry.getVersion(), "the version the report moved the chunk to");
    assertEquals(List.of("m2"), retry.getChainIdsList());
    assertEquals(List.of("m1", "m1", "m1"), cluster.sentTo(DataRequest.OpCase.WRITE));
    assertEquals(List.of("m1", "m2"), cluster.location(INODE, 0).getReplicasList());
    assertArrayEquals(data, Arrays.copyOfRange(cluster.copyOf("m2", INODE, 0), 4, 12));
  }

  @Test
  void aHeadThatCannotBeReachedIsReportedAndTheNextReplicaLeads() throws Exception {
    cluster.unreachable.add("m1");
    byte[] data = bytes(16, 3);
    io.write(INODE, 16, bufferWith(data), data.length, false);

    List<MetaRequest> reports = cluster.metaOf(MetaRequest.OpCase.REPORT_REPLICA_FAILURE);
    assertEquals(1, reports.size());
    assertEquals("m1", reports.get(0).getReportReplicaFailure().getMember());
    assertEquals(List.of("m1", "m2"), cluster.sentTo(DataRequest.OpCase.WRITE));
    WriteChunkOp retry = cluster.dataRequests.get(1).getWrite();
    assertEquals(List.of("m3"), retry.getChainIdsList());
    assertArrayEquals(data, cluster.copyOf("m3", INODE, 1));
    assertNull(cluster.copyOf("m1", INODE, 1));
  }

  @Test
  void aReplicaThatIsDownInTheViewIsDroppedByAllocatingBeforeTheWrite() throws Exception {
    io.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false);
    cluster.state.put("m2", MemberState.DOWN);

    io.write(INODE, 4, bufferWith(bytes(4, 2)), 4, false);

    assertEquals(2, cluster.metaOf(MetaRequest.OpCase.ALLOCATE_CHUNK).size());
    WriteChunkOp second = cluster.dataRequests.get(1).getWrite();
    assertEquals(2, second.getVersion(), "allocate bumped the version when it dropped m2");
    assertEquals(List.of("m3"), second.getChainIdsList());
    assertEquals(List.of("m1", "m3"), cluster.location(INODE, 0).getReplicasList());
  }

  @Test
  void aStaleVersionOnWriteRefreshesTheLocationAndRetries() throws Exception {
    io.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false);
    cluster.bumpVersion(INODE, 0); // another client moved the chunk to v2

    io.write(INODE, 4, bufferWith(bytes(4, 2)), 4, false);

    assertEquals(List.of(1L, 1L, 2L), cluster.dataRequests.stream()
        .map(r -> r.getWrite().getVersion()).toList());
    assertEquals(2, cluster.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size(),
        "the first lookup, then the refresh");
  }

  @Test
  void writesGiveUpAfterABoundedNumberOfAttemptsWithAnErrno() {
    cluster.failWith = Status.STALE_VERSION; // every replica, every time
    RpcException e = assertThrows(RpcException.class,
        () -> io.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false));
    assertEquals(Errno.EIO, e.errno());
    assertEquals(ReplicaWriter.MAX_ATTEMPTS, cluster.dataRequests.size());
  }

  @Test
  void withARetryWindowAWriteOutlastsMembersThatAreUnreachableForAWhile() throws Exception {
    // What a failover looks like from here: for a moment nobody answers (a killed server still
    // listed as up, an election), then the cluster is back. More than MAX_ATTEMPTS attempts fit
    // in the window, with pauses between them, so the write goes through.
    ChunkedIo patient = new ChunkedIo(cluster, locations, CHUNK, TIMEOUT, Duration.ofSeconds(20));
    synchronized (cluster) {
      cluster.unreachable.addAll(List.of("m1", "m2", "m3"));
    }
    Thread heal = new Thread(() -> {
      try {
        Thread.sleep(1500); // past five attempts' pauses (50+100+200+400 ms)
      } catch (InterruptedException e) {
        return;
      }
      synchronized (cluster) {
        cluster.unreachable.clear();
      }
    });
    heal.start();
    patient.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false);
    heal.join();
    assertTrue(cluster.dataRequests.size() > ReplicaWriter.MAX_ATTEMPTS,
        "attempts: " + cluster.dataRequests.size());
  }

  /**
   * A chunk the healer is copying takes no write until the copy is added: a writer that meets
   * the stamped source (STALE_VERSION) and then finds the location copying sends nothing, and
   * asks the map again until the copy is in the chain.
   */
  @Test
  void aWriteWaitsWhileTheChunkIsCopiedAndThenGoesToTheNewChain() throws Exception {
    ChunkedIo patient = new ChunkedIo(cluster, locations, CHUNK, TIMEOUT, Duration.ofSeconds(20));
    patient.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false); // chunk 0 at v1 on m1, m2, m3
    synchronized (cluster) {
      cluster.bumpVersion(INODE, 0); // fenced at v2, the source stamped
      cluster.chunkMap.put(ChunkStoreTransport.key(INODE, 0),
          cluster.location(INODE, 0).toBuilder().setCopying(true).build());
    }
    Thread copyAdded = new Thread(() -> {
      // The copy is added once the writer found the chunk copying twice (the first lookup, and
      // two refreshes after the stamped source refused it).
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (cluster.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size() < 3
          && System.nanoTime() < deadline) {
        try {
          Thread.sleep(5); // polling the condition
        } catch (InterruptedException e) {
          return;
        }
      }
      synchronized (cluster) {
        cluster.bumpVersion(INODE, 0);
        cluster.chunkMap.put(ChunkStoreTransport.key(INODE, 0),
            cluster.location(INODE, 0).toBuilder().setCopying(false).build());
      }
    });
    copyAdded.start();
    byte[] data = bytes(4, 2);
    patient.write(INODE, 4, bufferWith(data), data.length, false);
    copyAdded.join();

    assertEquals(List.of(1L, 1L, 3L), cluster.dataRequests.stream()
        .map(r -> r.getWrite().getVersion()).toList(),
        "the first write, the one the stamped source refused, then nothing until the copy");
    assertTrue(cluster.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size() > 2,
        "it asked the map while the chunk was copied");
    assertArrayEquals(data, Arrays.copyOfRange(cluster.copyOf("m3", INODE, 0), 4, 8));
  }

  @Test
  void noReachableReplicaTimesOut() {
    cluster.unreachable.addAll(List.of("m1", "m2", "m3"));
    RpcException e = assertThrows(RpcException.class,
        () -> io.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false));
    assertEquals(Errno.ETIMEDOUT, e.errno());
    assertEquals(ReplicaWriter.MAX_ATTEMPTS, cluster.dataRequests.size());
    assertEquals(List.of("m3"), cluster.location(INODE, 0).getReplicasList(),
        "the chunk map never drops the last replica");
  }

  @Test
  void aStatusThatNoReplicaChangesFailsAtOnce() {
    cluster.failWith = Status.ENOSPC;
    RpcException e = assertThrows(RpcException.class,
        () -> io.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false));
    assertEquals(Status.ENOSPC, e.status());
    assertEquals(1, cluster.dataRequests.size());
  }

  // ------------------------------------------------------------------ reads

  @Test
  void aCorruptCopyIsReportedAndTheNextReplicaServesTheRead() throws Exception {
    byte[] data = bytes(16, 4);
    io.write(INODE, 0, bufferWith(data), 16, false);
    cluster.corrupt.add("m1 " + ChunkStoreTransport.key(INODE, 0));

    KernelBuffer out = buffer(16);
    assertEquals(16, io.read(INODE, 0, 16, out, () -> 16));
    assertArrayEquals(data, bytesOf(out, 16));
    assertEquals(List.of("m1", "m2"), cluster.sentTo(DataRequest.OpCase.READ));
    List<MetaRequest> reports = cluster.metaOf(MetaRequest.OpCase.REPORT_REPLICA_FAILURE);
    assertEquals(1, reports.size());
    assertEquals("m1", reports.get(0).getReportReplicaFailure().getMember());
    assertEquals(List.of("m2", "m3"), cluster.location(INODE, 0).getReplicasList());
  }

  @Test
  void unreachableReplicasAreSkippedWithoutAReport() throws Exception {
    byte[] data = bytes(16, 5);
    io.write(INODE, 0, bufferWith(data), 16, false);
    cluster.unreachable.addAll(List.of("m1", "m2"));

    KernelBuffer out = buffer(16);
    assertEquals(16, io.read(INODE, 0, 16, out, () -> 16));
    assertArrayEquals(data, bytesOf(out, 16));
    assertEquals(List.of("m1", "m2", "m3"), cluster.sentTo(DataRequest.OpCase.READ));
    assertEquals(0, cluster.metaOf(MetaRequest.OpCase.REPORT_REPLICA_FAILURE).size());
  }

  @Test
  void replicasThatAreUpAreAskedFirst() throws Exception {
    io.write(INODE, 0, bufferWith(bytes(16, 6)), 16, false);
    cluster.state.put("m1", MemberState.DOWN);

    io.read(INODE, 0, 16, buffer(16), () -> 16);
    assertEquals(List.of("m2"), cluster.sentTo(DataRequest.OpCase.READ));
  }

  @Test
  void whenEveryReplicaFailsTheLastFailureIsTheAnswer() throws Exception {
    io.write(INODE, 0, bufferWith(bytes(16, 7)), 16, false);
    cluster.unreachable.addAll(List.of("m1", "m2"));
    cluster.corrupt.add("m3 " + ChunkStoreTransport.key(INODE, 0));

    RpcException e = assertThrows(RpcException.class,
        () -> io.read(INODE, 0, 16, buffer(16), () -> 16));
    assertEquals(Status.CORRUPT, e.status());
    assertEquals(Errno.EIO, e.errno());
  }

  @Test
  void aStaleVersionOnReadRefreshesTheLocationOnce() throws Exception {
    byte[] data = bytes(16, 8);
    io.write(INODE, 0, bufferWith(data), 16, false);
    cluster.bumpVersion(INODE, 0);

    KernelBuffer out = buffer(16);
    assertEquals(16, io.read(INODE, 0, 16, out, () -> 16));
    assertArrayEquals(data, bytesOf(out, 16));
    assertEquals(List.of(1L, 2L), cluster.dataRequests.stream()
        .filter(DataRequest::hasRead).map(r -> r.getRead().getVersion()).toList());
    assertEquals(2, cluster.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size());
  }

  @Test
  void aChunkTheMapDoesNotKnowIsAHoleAndNoMemberIsAsked() throws Exception {
    io.write(INODE, 32, bufferWith(bytes(4, 9)), 4, false); // chunk 2 only

    KernelBuffer out = buffer(36);
    out.fill((byte) 0x55);
    assertEquals(36, io.read(INODE, 0, 36, out, () -> 36));
    byte[] got = bytesOf(out, 36);
    for (int i = 0; i < 32; i++) {
      assertEquals(0, got[i], "byte " + i);
    }
    assertEquals(List.of("m1"), cluster.sentTo(DataRequest.OpCase.READ), "chunk 2 only");
  }

  @Test
  void openForgetsTheCachedLocations() throws Exception {
    io.write(INODE, 0, bufferWith(bytes(4, 1)), 4, false);
    int lookups = cluster.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size();
    io.read(INODE, 0, 4, buffer(4), () -> 4);
    assertEquals(lookups, cluster.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size());

    locations.forget(INODE);
    io.read(INODE, 0, 4, buffer(4), () -> 4);
    assertEquals(lookups + 1, cluster.metaOf(MetaRequest.OpCase.GET_CHUNK_LOCATIONS).size());
  }

  // ------------------------------------------------------------------ truncate, sync, statfs

  @Test
  void truncateAllocatesChunksPastTheCutWithADownReplicaThenCutsOnEveryUpMember()
      throws Exception {
    AtomicLong size = new AtomicLong(48);
    cluster.metaAnswers = r -> MetaResponse.newBuilder()
        .setAttr(Attr.newBuilder().setInode(INODE).setSize(size.get())).build();
    io.write(INODE, 0, bufferWith(bytes(48, 1)), 48, false); // chunks 0, 1, 2 on m1..m3
    cluster.state.put("m3", MemberState.DOWN);
    cluster.order.clear();
    Truncator truncator = new Truncator(meta, new DataClient(cluster, TIMEOUT), locations,
        cluster, new FileHandleTable(), CHUNK);

    truncator.truncate(Caller.getDefaultInstance(), INODE, 20);

    List<MetaRequest> allocations = cluster.metaOf(MetaRequest.OpCase.ALLOCATE_CHUNK);
    assertEquals(List.of(1L, 2L), allocations.subList(3, allocations.size()).stream()
        .map(r -> ChunkLocations.indexOf(r.getAllocateChunk().getChunk())).toList(),
        "chunks at or past byte 20 (1 and 2), not chunk 0");
    assertEquals(List.of("meta:GET_ATTR", "meta:GET_CHUNK_LOCATIONS", "meta:ALLOCATE_CHUNK",
        "meta:ALLOCATE_CHUNK", "data:TRUNCATE", "data:TRUNCATE", "meta:SET_ATTR"), cluster.order);
    assertEquals(List.of("m1", "m2"), cluster.sentTo(DataRequest.OpCase.TRUNCATE));
    assertEquals(20, cluster.dataRequests.get(cluster.dataRequests.size() - 1)
        .getTruncate().getSize());
    assertEquals(List.of("m1", "m2"), cluster.location(INODE, 1).getReplicasList());
    assertEquals(2, cluster.location(INODE, 1).getVersion(), "m3's copy is never current again");
    assertEquals(4, cluster.copyOf("m1", INODE, 1).length);
    assertNull(cluster.copyOf("m2", INODE, 2));
  }

  @Test
  void truncateWithEveryReplicaUpAllocatesNothingAndCutsEverywhere() throws Exception {
    cluster.metaAnswers = r -> MetaResponse.newBuilder()
        .setAttr(Attr.newBuilder().setInode(INODE).setSize(32)).build();
    io.write(INODE, 0, bufferWith(bytes(32, 1)), 32, false);
    Truncator truncator = new Truncator(meta, new DataClient(cluster, TIMEOUT), locations,
        cluster, new FileHandleTable(), CHUNK);

    truncator.truncate(Caller.getDefaultInstance(), INODE, 0);

    assertEquals(2, cluster.metaOf(MetaRequest.OpCase.ALLOCATE_CHUNK).size(), "the writes' only");
    assertEquals(List.of("m1", "m2", "m3"), cluster.sentTo(DataRequest.OpCase.TRUNCATE));
    KernelBuffer out = buffer(32);
    assertEquals(32, io.read(INODE, 0, 32, out, () -> 32), "grown back: zeros, not old bytes");
    assertArrayEquals(new byte[32], bytesOf(out, 32));
  }

  @Test
  void aMemberThatFailsTheCutFailsTheTruncate() throws Exception {
    cluster.metaAnswers = r -> MetaResponse.newBuilder()
        .setAttr(Attr.newBuilder().setInode(INODE).setSize(16)).build();
    io.write(INODE, 0, bufferWith(bytes(16, 1)), 16, false);
    cluster.unreachable.add("m2");
    Truncator truncator = new Truncator(meta, new DataClient(cluster, TIMEOUT), locations,
        cluster, new FileHandleTable(), CHUNK);

    RpcException e = assertThrows(RpcException.class,
        () -> truncator.truncate(Caller.getDefaultInstance(), INODE, 0));
    assertEquals(Errno.ETIMEDOUT, e.errno());
    assertEquals(0, cluster.metaOf(MetaRequest.OpCase.SET_ATTR).size(), "metadata unchanged");
  }

  @Test
  void syncGoesToEveryUpMember() throws Exception {
    cluster.state.put("m2", MemberState.DEAD);
    new DataClient(cluster, TIMEOUT).sync(INODE, List.of());
    assertEquals(List.of("m1", "m3"), cluster.sentTo(DataRequest.OpCase.SYNC));
  }

  @Test
  void statfsSumsTheUpMembersThatAnswer() throws Exception {
    cluster.state.put("m3", MemberState.DOWN);
    DataResponse space = new DataClient(cluster, TIMEOUT).statFs();
    assertEquals(2000, space.getTotalBytes());
    assertEquals(800, space.getFreeBytes());

    cluster.unreachable.add("m1");
    assertEquals(1000, new DataClient(cluster, TIMEOUT).statFs().getTotalBytes());

    cluster.unreachable.add("m2");
    RpcException e = assertThrows(RpcException.class,
        () -> new DataClient(cluster, TIMEOUT).statFs());
    assertEquals(Status.UNAVAILABLE, e.status());
  }

  @Test
  void theDataFanOutGoesToDataNodesOnlyNeverToAMetadataServer() throws Exception {
    // m1..m3 store chunks (m1 lists no role: both), m4 serves metadata only.
    ChunkStoreTransport split = new ChunkStoreTransport(CHUNK, 4, 3);
    split.roles.put("m2", List.of(MemberRole.DATA));
    split.roles.put("m3", List.of(MemberRole.DATA));
    split.roles.put("m4", List.of(MemberRole.METADATA));
    DataClient data = new DataClient(split, TIMEOUT);

    data.sync(INODE, List.of());
    assertEquals(List.of("m1", "m2", "m3"), split.sentTo(DataRequest.OpCase.SYNC));
    assertEquals(3000, data.statFs().getTotalBytes(), "m4's disk holds no chunk: not summed");
    assertEquals(List.of("m1", "m2", "m3"), split.sentTo(DataRequest.OpCase.STAT_FS));
    data.truncate(INODE, 0, List.of());
    assertEquals(List.of("m1", "m2", "m3"), split.sentTo(DataRequest.OpCase.TRUNCATE));

    // Only metadata servers left up: nothing to send to, and the error says why.
    split.state.put("m1", MemberState.DOWN);
    split.state.put("m2", MemberState.DOWN);
    split.state.put("m3", MemberState.DOWN);
    RpcException e = assertThrows(RpcException.class, () -> data.statFs());
    assertEquals(Status.UNAVAILABLE, e.status());
    assertTrue(e.getMessage().contains("no data node is up"), e.getMessage());
  }

  @Test
  void aReplicaOnAMemberThatIsNoDataNodeIsReadLastAndMakesAWriteAllocateAgain()
      throws Exception {
    byte[] data = bytes(8, 3);
    io.write(INODE, 0, bufferWith(data), data.length, false); // chain m1, m2, m3
    cluster.roles.put("m1", List.of(MemberRole.METADATA)); // m1 serves metadata only now
    cluster.sent.clear();

    io.read(INODE, 0, 8, buffer(8), () -> 8);
    assertEquals(List.of("m2"), cluster.sentTo(DataRequest.OpCase.READ),
        "the first replica on a data node, not the head of the chain");

    io.write(INODE, 0, bufferWith(data), data.length, false);
    assertEquals(2, cluster.metaOf(MetaRequest.OpCase.ALLOCATE_CHUNK).size(),
        "a chain through m1 is allocated again first");
    assertEquals(List.of("m2", "m3"), cluster.location(INODE, 0).getReplicasList());
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (seed * 31 + i + 1);
    }
    return b;
  }

}
