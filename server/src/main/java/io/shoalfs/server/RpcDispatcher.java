package io.shoalfs.server;

import io.shoalfs.proto.ClusterRequest;
import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.PingResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.EnvelopeHandler;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Routes each request envelope to the plane that serves it. Knows nothing of how the planes
 * are built: that is the topology's business.
 */
final class RpcDispatcher implements EnvelopeHandler {
  private final ControlPlaneOrchestrator control;
  private final DataPlaneOrchestrator data;
  private final Supplier<CompletableFuture<ClusterResponse>> clusterStatus;

  RpcDispatcher(
      ControlPlaneOrchestrator control,
      DataPlaneOrchestrator data,
      Supplier<CompletableFuture<ClusterResponse>> clusterStatus) {
    this.control = control;
    this.data = data;
    this.clusterStatus = clusterStatus;
  }

  /**
   * Data requests are handed to the data plane on the event loop: its handle() only queues
   * the work on its own disk threads (or forwards it down a chain), so a stop at the dispatch
   * pool would be one more thread wake-up per read and per write, on every server of a chain.
   * Metadata requests are not: a read the leader answers from its own store runs the store
   * read on the calling thread, and a snapshot being installed holds the store for seconds.
   */
  @Override
  public boolean answersOnEventLoop(Envelope request) {
    return request.getBodyCase() == Envelope.BodyCase.DATA_REQUEST
        || request.getBodyCase() == Envelope.BodyCase.PING_REQUEST;
  }

  @Override
  public CompletableFuture<Envelope> handle(Envelope request) {
    switch (request.getBodyCase()) {
      case META_REQUEST:
        return control.submit(request.getMetaRequest())
            // The group could not be reached (no quorum, leader change outlasting the retries):
            // a typed answer the client may retry, not an internal error.
            .exceptionally(err -> MetaResponse.newBuilder()
                .setStatus(Status.UNAVAILABLE)
                .setError("metadata group unavailable: " + rootMessage(err))
                .build())
            .thenApply(r -> Envelope.newBuilder().setMetaResponse(r)
                .setMetaLeaderId(control.leaderId().orElse("")).build());
      case DATA_REQUEST:
        return data.handle(request.getDataRequest())
            .thenApply(r -> Envelope.newBuilder().setDataResponse(r).build());
      case PING_REQUEST:
        return CompletableFuture.completedFuture(Envelope.newBuilder()
            .setPingResponse(PingResponse.newBuilder().setPayload(request.getPingRequest().getPayload()))
            .build());
      case CLUSTER_REQUEST:
        return cluster(request.getClusterRequest());
      default:
        return CompletableFuture.completedFuture(Envelope.newBuilder()
            .setStatus(Status.UNKNOWN_TYPE)
            .setError("no handler for " + request.getBodyCase())
            .build());
    }
  }

  private static String rootMessage(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  private CompletableFuture<Envelope> cluster(ClusterRequest request) {
    return clusterStatus.get().thenApply(r -> Envelope.newBuilder().setClusterResponse(r).build());
  }
}
