package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** fsync's data half across three members, one of them killed a moment ago (still "up"). */
class DataClientSyncTest {
  private final ChunkStoreTransport transport = new ChunkStoreTransport(16, 3, 2);
  private final DataClient data = new DataClient(transport, Duration.ofSeconds(5));

  @Test
  void everyUpMemberIsAskedToSyncTheFile() throws Exception {
    data.sync(4, List.of(chunk(0, "m1", "m2")));
    assertEquals(List.of("m1", "m2", "m3"), sorted(transport.sentTo(DataRequest.OpCase.SYNC)));
    assertEquals(List.of(4L, 4L, 4L), syncedInodes());
  }

  @Test
  void aMemberThatCannotBeReachedIsLeftOutWhileEveryChunkHasASyncedReplica() throws Exception {
    transport.unreachable.add("m3");
    data.sync(4, List.of(chunk(0, "m1", "m3"), chunk(1, "m2", "m3")));
    // m3 was asked too (it did not answer); the sync stood on m1 and m2.
    assertEquals(List.of("m1", "m2", "m3"), sorted(transport.sentTo(DataRequest.OpCase.SYNC)));
    data.sync(4, List.of()); // nothing known: some member synced
    assertEquals(6, transport.sentTo(DataRequest.OpCase.SYNC).size());
  }

  @Test
  void aChunkWhoseReplicasAllCannotBeReachedFailsTheSync() {
    transport.unreachable.add("m2");
    transport.unreachable.add("m3");
    RpcException e = assertThrows(RpcException.class,
        () -> data.sync(4, List.of(chunk(0, "m1", "m2"), chunk(1, "m2", "m3"))));
    assertEquals(Status.UNAVAILABLE, e.status());
  }

  @Test
  void aChunkWhoseReplicasAreAllDownInTheViewFailsTheSync() {
    transport.state.put("m3", MemberState.DOWN); // not asked at all: nothing was unreachable
    RpcException e = assertThrows(RpcException.class,
        () -> data.sync(4, List.of(chunk(0, "m1"), chunk(1, "m3"))));
    assertEquals(Status.UNAVAILABLE, e.status());
  }

  @Test
  void noMemberReachedOrAnyOtherFailureIsTheAnswer() {
    transport.unreachable.addAll(List.of("m1", "m2", "m3"));
    assertEquals(Status.UNAVAILABLE,
        assertThrows(RpcException.class, () -> data.sync(4, List.of())).status());
    transport.unreachable.clear();
    transport.failWith = Status.EIO;
    assertEquals(Status.EIO,
        assertThrows(RpcException.class, () -> data.sync(4, List.of())).status());
  }

  private List<Long> syncedInodes() {
    return transport.requestsOf(DataRequest.OpCase.SYNC).stream()
        .map(r -> r.getSync().getInode()).toList();
  }

  private static List<String> sorted(List<String> ids) {
    return ids.stream().sorted().toList();
  }

  private static ChunkLocation chunk(int index, String... replicas) {
    return ChunkLocation.newBuilder()
        .setChunk(ChunkId.newBuilder().setInode(4).setIndex(index))
        .setVersion(1).addAllReplicas(List.of(replicas)).build();
  }
}
