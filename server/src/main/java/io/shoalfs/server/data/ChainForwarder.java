package io.shoalfs.server.data;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import java.util.concurrent.CompletableFuture;

/**
 * The chain half of a replicated write: once this node has written its copy, sends the op
 * with the rest of the chain to the next replica and turns the outcome into this node's
 * answer. Nothing here blocks: the answer arrives on a client event loop and is only
 * translated there.
 *
 * <ul>
 *   <li>next replica answers OK (so did everyone after it): OK;
 *   <li>next replica cannot be reached or answers another status: REPLICA_FAILED naming it;
 *   <li>a replica further down failed: its REPLICA_FAILED, passed up unchanged;
 *   <li>STALE_VERSION: passed up too, since the writer's location is out of date and a
 *       refresh, not a failure report, is the cure.
 * </ul>
 */
final class ChainForwarder {
  private final DownstreamClients downstream;

  ChainForwarder(DownstreamClients downstream) {
    this.downstream = downstream;
  }

  /** Forwards {@code op} (whose chain is not empty) to chain[0] with chain[1:]. */
  CompletableFuture<DataResponse> forward(WriteChunkOp op) {
    String next = op.getChain(0);
    String nextId = op.getChainIdsCount() > 0 ? op.getChainIds(0) : next;
    WriteChunkOp.Builder rest = op.toBuilder().clearChain().clearChainIds()
        .addAllChain(op.getChainList().subList(1, op.getChainCount()));
    if (op.getChainIdsCount() > 0) {
      rest.addAllChainIds(op.getChainIdsList().subList(1, op.getChainIdsCount()));
    }
    DataRequest request = DataRequest.newBuilder().setWrite(rest).build();
    return downstream.send(next, request).handle((response, failure) -> {
      if (failure != null) {
        return replicaFailed(nextId, "replica " + nextId + " at " + next + " failed: "
            + DataFailures.response(failure).getError());
      }
      switch (response.getStatus()) {
        case OK:
          return response;
        case REPLICA_FAILED:
          return response.getFailedMember().isEmpty()
              ? response.toBuilder().setFailedMember(nextId).build() : response;
        case STALE_VERSION:
          return response;
        default:
          return replicaFailed(nextId, "replica " + nextId + " at " + next + " answered "
              + response.getStatus() + ": " + response.getError());
      }
    });
  }

  private static DataResponse replicaFailed(String member, String why) {
    return DataResponse.newBuilder()
        .setStatus(Status.REPLICA_FAILED)
        .setFailedMember(member)
        .setError(why)
        .build();
  }
}
