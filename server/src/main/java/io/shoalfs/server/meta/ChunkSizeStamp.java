package io.shoalfs.server.meta;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Stamps a move_chunks request with the cluster's chunk size before it is proposed, whatever
 * the caller put there: the state machine keeps no cluster settings, and a size taken from the
 * caller would let it misstate where the moved chunks' bytes end. Every other request passes
 * through unchanged.
 */
public final class ChunkSizeStamp implements ControlPlaneOrchestrator {

  private final ControlPlaneOrchestrator delegate;
  private final int chunkSize;

  public ChunkSizeStamp(ControlPlaneOrchestrator delegate, int chunkSize) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size " + chunkSize + " must be positive");
    }
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.chunkSize = chunkSize;
  }

  @Override
  public void start() throws IOException {
    delegate.start();
  }

  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    if (request.getOpCase() != MetaRequest.OpCase.MOVE_CHUNKS) {
      return delegate.submit(request);
    }
    return delegate.submit(request.toBuilder()
        .setMoveChunks(request.getMoveChunks().toBuilder().setChunkSize(chunkSize)).build());
  }

  @Override
  public Optional<String> leaderId() {
    return delegate.leaderId();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
