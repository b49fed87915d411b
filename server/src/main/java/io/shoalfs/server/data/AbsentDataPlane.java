package io.shoalfs.server.data;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.server.DataPlaneOrchestrator;
import java.util.concurrent.CompletableFuture;

/**
 * The data plane of a server that stores no chunks (a dedicated metadata server): every data
 * call is answered UNAVAILABLE, so a caller with a stale idea of the cluster moves on to a data
 * node, and the volume reports nothing stored. Its membership record does not list the data role,
 * so placement, the healer and the mounts never pick it.
 */
public final class AbsentDataPlane implements DataPlaneOrchestrator {
  private final String memberId;

  public AbsentDataPlane(String memberId) {
    this.memberId = memberId;
  }

  @Override
  public void start() {}

  @Override
  public CompletableFuture<DataResponse> handle(DataRequest request) {
    return CompletableFuture.completedFuture(DataResponse.newBuilder()
        .setStatus(Status.UNAVAILABLE)
        .setError(memberId + " stores no chunks: it is a metadata server")
        .build());
  }

  @Override
  public StorageStats storageStats() {
    return new StorageStats(0, 0, 0);
  }

  @Override
  public void close() {}
}
