package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class MetaClientTest {
  private static final Caller BOB = Caller.newBuilder().setUid(1001).setGid(50).build();
  private final ChunkStoreTransport transport = new ChunkStoreTransport(16);
  private final MetaClient meta = new MetaClient(transport, Duration.ofSeconds(5), 77);

  @Test
  void mutationsCarryClientIdAndAnIncreasingSequence() throws Exception {
    meta.call(BOB, MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setName("a")));
    meta.call(BOB, MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder().setName("a")));

    MetaRequest first = transport.metaRequests.get(0);
    MetaRequest second = transport.metaRequests.get(1);
    assertEquals(77, first.getClientId());
    assertEquals(77, second.getClientId());
    assertTrue(second.getRequestSeq() > first.getRequestSeq());
    assertTrue(first.getRequestSeq() > 0, "0 would read as 'no sequence'");
  }

  @Test
  void readsCarryTheCallerButNoSequence() throws Exception {
    meta.call(BOB, MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(1)));
    MetaRequest sent = transport.metaRequests.get(0);
    assertEquals(BOB, sent.getCaller());
    assertEquals(0, sent.getClientId());
    assertEquals(0, sent.getRequestSeq());
  }

  @Test
  void aStatusOtherThanOkIsThrown() {
    transport.metaAnswers = r -> MetaResponse.newBuilder()
        .setStatus(Status.EEXIST).setError("a exists").build();
    RpcException e = assertThrows(RpcException.class, () -> meta.call(BOB,
        MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setName("a"))));
    assertEquals(Status.EEXIST, e.status());
  }

  @Test
  void aTransportFailureKeepsItsStatus() {
    ShoalTransport down = new ShoalTransport() {
      @Override
      public CompletableFuture<MetaResponse> meta(MetaRequest request) {
        return CompletableFuture.failedFuture(new RpcException(Status.UNAVAILABLE, "no quorum"));
      }

      @Override
      public CompletableFuture<io.shoalfs.proto.DataResponse> dataAt(
          String address, io.shoalfs.proto.DataRequest request) {
        return new CompletableFuture<>();
      }

      @Override
      public java.util.List<io.shoalfs.proto.MemberInfo> members() {
        return java.util.List.of();
      }

      @Override
      public void close() {}
    };
    RpcException e = assertThrows(RpcException.class,
        () -> new MetaClient(down, Duration.ofSeconds(5), 1).getAttr(BOB, 1));
    assertEquals(Status.UNAVAILABLE, e.status());
  }

  @Test
  void noAnswerWithinTheTimeoutIsDeadlineExceeded() {
    ShoalTransport silent = new ShoalTransport() {
      @Override
      public CompletableFuture<MetaResponse> meta(MetaRequest request) {
        return new CompletableFuture<>();
      }

      @Override
      public CompletableFuture<io.shoalfs.proto.DataResponse> dataAt(
          String address, io.shoalfs.proto.DataRequest request) {
        return new CompletableFuture<>();
      }

      @Override
      public java.util.List<io.shoalfs.proto.MemberInfo> members() {
        return java.util.List.of();
      }

      @Override
      public void close() {}
    };
    RpcException e = assertThrows(RpcException.class,
        () -> new MetaClient(silent, Duration.ofMillis(50), 1).getAttr(BOB, 1));
    assertEquals(Status.DEADLINE_EXCEEDED, e.status());
  }
}
