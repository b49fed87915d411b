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

  /** Answers getattr/setattr with size = how many requests came before: a stale answer shows. */
  private MetaClient cachingClient() {
    transport.metaAnswers = r -> MetaResponse.newBuilder().setAttr(io.shoalfs.proto.Attr.newBuilder()
        .setInode(r.hasSetAttr() ? r.getSetAttr().getInode() : r.getGetAttr().getInode())
        .setSize(transport.metaRequests.size())).build();
    return new MetaClient(transport, Duration.ofSeconds(5), 77, Duration.ofMinutes(1), 100);
  }

  @Test
  void cachedAttributesAreServedWithoutACall() throws Exception {
    MetaClient caching = cachingClient();
    assertEquals(1, caching.getAttr(BOB, 5).getSize());
    assertEquals(1, caching.cachedAttr(BOB, 5).getSize());
    assertEquals(1, transport.metaRequests.size());
    assertEquals(2, caching.getAttr(BOB, 5).getSize(), "getAttr always asks (open)");
  }

  @Test
  void aMutationsAnswerReplacesTheCachedAttributes() throws Exception {
    MetaClient caching = cachingClient();
    caching.getAttr(BOB, 5);
    caching.call(BOB, MetaRequest.newBuilder().setSetAttr(
        io.shoalfs.proto.SetAttrOp.newBuilder().setInode(5)));
    assertEquals(2, caching.cachedAttr(BOB, 5).getSize());
    assertEquals(2, transport.metaRequests.size());
  }

  @Test
  void anUnlinkForgetsEveryCachedAttribute() throws Exception {
    MetaClient caching = cachingClient();
    caching.getAttr(BOB, 5);
    caching.call(BOB, MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder().setName("a")));
    assertEquals(3, caching.cachedAttr(BOB, 5).getSize(), "asked again");
  }

  @Test
  void anAnswerListingItsChangesUpdatesExactlyThoseAttributes() throws Exception {
    MetaClient caching = cachingClient();
    caching.getAttr(BOB, 5);
    caching.getAttr(BOB, 7);
    caching.getAttr(BOB, 9);
    transport.metaAnswers = r -> MetaResponse.newBuilder()
        .setChangesListed(true)
        .addChanged(io.shoalfs.proto.Attr.newBuilder().setInode(5).setSize(42))
        .addFreed(9)
        .build();
    caching.call(BOB, MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder().setName("a")));

    assertEquals(42, caching.cachedAttr(BOB, 5).getSize(), "the parent as the unlink left it");
    assertEquals(2, caching.cachedAttr(BOB, 7).getSize(), "an inode it did not touch stays cached");
    assertEquals(null, caching.attrCache().get(9), "the freed inode is forgotten");
    assertEquals(4, transport.metaRequests.size(), "no call after the unlink");
  }

  @Test
  void anAnswerThatDoesNotListItsChangesStillForgetsEverything() throws Exception {
    MetaClient caching = cachingClient();
    caching.getAttr(BOB, 7);
    transport.metaAnswers = r -> MetaResponse.newBuilder()
        .addChanged(io.shoalfs.proto.Attr.newBuilder().setInode(5).setSize(42))
        .build();
    caching.call(BOB, MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder().setName("a")));
    assertEquals(null, caching.attrCache().get(7));
    assertEquals(null, caching.attrCache().get(5), "an incomplete list is not trusted");
  }

  @Test
  void aNewFileHasNoXattrsUntilThisMountSetsOne() throws Exception {
    MetaClient caching = cachingClient();
    transport.metaAnswers = r -> MetaResponse.newBuilder().setChangesListed(true)
        .setAttr(io.shoalfs.proto.Attr.newBuilder().setInode(12)).build();
    caching.call(BOB, MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setName("f")));
    RpcException e = assertThrows(RpcException.class,
        () -> caching.getXattr(BOB, 12, "security.capability"));
    assertEquals(Status.ENODATA, e.status());
    assertEquals(1, transport.metaRequests.size(), "answered without a call");

    caching.call(BOB, MetaRequest.newBuilder().setSetXattr(io.shoalfs.proto.SetXattrOp
        .newBuilder().setInode(12).setName("user.a")));
    transport.metaAnswers = r -> MetaResponse.newBuilder()
        .setValue(com.google.protobuf.ByteString.copyFromUtf8("v")).build();
    assertEquals("v", new String(caching.getXattr(BOB, 12, "security.capability")),
        "after a setxattr the cluster is asked");
  }

  @Test
  void aFailedMutationStillForgets() throws Exception {
    MetaClient caching = cachingClient();
    caching.getAttr(BOB, 5);
    transport.metaAnswers = r -> MetaResponse.newBuilder().setStatus(Status.UNAVAILABLE).build();
    assertThrows(RpcException.class, () -> caching.call(BOB, MetaRequest.newBuilder()
        .setSetAttr(io.shoalfs.proto.SetAttrOp.newBuilder().setInode(5))));
    assertEquals(null, caching.attrCache().get(5), "it may have been applied");
  }

  @Test
  void overlappingMutationsStillLeaveTheirAnswersCached() throws Exception {
    // Two setattr calls in flight at once, answered in the opposite order: the answer with the
    // higher log index stays, and no getattr is needed afterwards.
    java.util.List<CompletableFuture<MetaResponse>> held = new java.util.ArrayList<>();
    ShoalTransport delayed = new ShoalTransport() {
      @Override
      public CompletableFuture<MetaResponse> meta(MetaRequest request) {
        CompletableFuture<MetaResponse> f = new CompletableFuture<>();
        synchronized (held) {
          held.add(f);
        }
        return f;
      }

      @Override
      public CompletableFuture<io.shoalfs.proto.DataResponse> dataAt(String address,
          io.shoalfs.proto.DataRequest request) {
        throw new UnsupportedOperationException();
      }

      @Override
      public java.util.List<io.shoalfs.proto.MemberInfo> members() {
        return java.util.List.of();
      }

      @Override
      public void close() {}
    };
    MetaClient caching = new MetaClient(delayed, Duration.ofSeconds(5), 77, Duration.ofMinutes(1), 100);
    Thread first = new Thread(() -> call(caching, 1));
    Thread second = new Thread(() -> call(caching, 2));
    first.start();
    waitUntilHeld(held, 1);
    second.start();
    waitUntilHeld(held, 2);
    held.get(1).complete(setAttrAnswer(5, 200, 11));
    second.join(5000);
    held.get(0).complete(setAttrAnswer(5, 100, 10));
    first.join(5000);
    assertEquals(200, caching.attrCache().get(5).getSize(), "the newer answer stays");
  }

  private static void waitUntilHeld(java.util.List<?> held, int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      synchronized (held) {
        if (held.size() >= n) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("calls never sent");
      }
      Thread.sleep(5);
    }
  }

  private static MetaResponse setAttrAnswer(long inode, long size, long index) {
    return MetaResponse.newBuilder().setAppliedIndex(index)
        .setAttr(io.shoalfs.proto.Attr.newBuilder().setInode(inode).setSize(size)).build();
  }

  private static void call(MetaClient client, long size) {
    try {
      client.call(BOB, MetaRequest.newBuilder().setSetAttr(
          io.shoalfs.proto.SetAttrOp.newBuilder().setInode(5).setSize(size)));
    } catch (RpcException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void anAbsentXattrIsRememberedUntilThisMountSetsIt() throws Exception {
    MetaClient caching = cachingClient();
    transport.metaAnswers = r -> MetaResponse.newBuilder().setStatus(Status.ENODATA).build();
    for (int i = 0; i < 2; i++) {
      RpcException e = assertThrows(RpcException.class,
          () -> caching.getXattr(BOB, 5, "security.capability"));
      assertEquals(Status.ENODATA, e.status());
    }
    assertEquals(1, transport.metaRequests.size(), "the second answer came from the cache");
    transport.metaAnswers = r -> MetaResponse.newBuilder()
        .setValue(com.google.protobuf.ByteString.copyFromUtf8("v")).build();
    caching.call(BOB, MetaRequest.newBuilder().setSetXattr(io.shoalfs.proto.SetXattrOp
        .newBuilder().setInode(5).setName("security.capability")));
    assertEquals("v", new String(caching.getXattr(BOB, 5, "security.capability")));
  }

  @Test
  void readsCarryTheCallerAndTheSessionButNoSequence() throws Exception {
    meta.call(BOB, MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(1)));
    MetaRequest sent = transport.metaRequests.get(0);
    assertEquals(BOB, sent.getCaller());
    assertEquals(77, sent.getClientId(), "another mount's capability is recalled for it");
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
