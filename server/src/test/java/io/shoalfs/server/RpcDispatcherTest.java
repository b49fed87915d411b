package io.shoalfs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.ClusterRequest;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.PingRequest;
import io.shoalfs.proto.Status;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Routing of envelopes to the planes, with stand-in planes. */
class RpcDispatcherTest {
  private static final Envelope GETATTR = Envelope.newBuilder().setMetaRequest(
      MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(1))).build();

  /** A control plane that answers OK, or fails every call, and names {@code leader}. */
  private static ControlPlaneOrchestrator control(Optional<String> leader, boolean reachable) {
    return new ControlPlaneOrchestrator() {
      @Override
      public void start() {}

      @Override
      public CompletableFuture<MetaResponse> submit(MetaRequest request) {
        return reachable
            ? CompletableFuture.completedFuture(MetaResponse.newBuilder().setAppliedIndex(9).build())
            : CompletableFuture.failedFuture(new java.io.IOException("no quorum"));
      }

      @Override
      public Optional<String> leaderId() {
        return leader;
      }

      @Override
      public void close() {}
    };
  }

  private static final DataPlaneOrchestrator NO_DATA = new DataPlaneOrchestrator() {
    @Override
    public void start() {}

    @Override
    public CompletableFuture<DataResponse> handle(DataRequest request) {
      return CompletableFuture.completedFuture(DataResponse.getDefaultInstance());
    }

    @Override
    public StorageStats storageStats() {
      return new StorageStats(0, 0, 0);
    }

    @Override
    public void close() {}
  };

  private static Envelope dispatch(ControlPlaneOrchestrator control) throws Exception {
    return new RpcDispatcher(control, NO_DATA, () -> null).handle(GETATTR).get(5, TimeUnit.SECONDS);
  }

  @Test
  void metadataAnswersNameTheLeaderSoClientsCanGoThere() throws Exception {
    Envelope answer = dispatch(control(Optional.of("s2"), true));
    assertEquals("s2", answer.getMetaLeaderId());
    assertEquals(9, answer.getMetaResponse().getAppliedIndex());
    assertEquals("", dispatch(control(Optional.empty(), true)).getMetaLeaderId(), "none known");
  }

  @Test
  void anUnreachableGroupIsATypedUnavailableAnswer() throws Exception {
    Envelope answer = dispatch(control(Optional.empty(), false));
    assertEquals(Status.UNAVAILABLE, answer.getMetaResponse().getStatus());
  }

  @Test
  void onlyDataRequestsAndPingsAreTakenOnTheEventLoop() {
    RpcDispatcher dispatcher = new RpcDispatcher(control(Optional.empty(), true), NO_DATA, () -> null);
    assertTrue(dispatcher.answersOnEventLoop(Envelope.newBuilder()
        .setDataRequest(DataRequest.getDefaultInstance()).build()));
    assertTrue(dispatcher.answersOnEventLoop(Envelope.newBuilder()
        .setPingRequest(PingRequest.getDefaultInstance()).build()));
    // A leader's read runs its store read on the calling thread: never on the event loop.
    assertFalse(dispatcher.answersOnEventLoop(GETATTR));
    assertFalse(dispatcher.answersOnEventLoop(Envelope.newBuilder()
        .setClusterRequest(ClusterRequest.getDefaultInstance()).build()));
  }
}
