package io.shoalfs.server.meta;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.server.ControlPlaneOrchestrator;

/**
 * Stamps a move_chunks request with the cluster's chunk size before it is proposed, whatever
 * the caller put there: the state machine keeps no cluster settings, and a size taken from the
 * caller would let it misstate where the moved chunks' bytes end. Every other request passes
 * through unchanged.
 */
public final class ChunkSizeStamp extends ProposalRewriter {

  private final int chunkSize;

  public ChunkSizeStamp(ControlPlaneOrchestrator delegate, int chunkSize) {
    super(delegate);
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size " + chunkSize + " must be positive");
    }
    this.chunkSize = chunkSize;
  }

  @Override
  boolean rewrites(MetaRequest request) {
    return request.getOpCase() == MetaRequest.OpCase.MOVE_CHUNKS;
  }

  @Override
  MetaRequest rewrite(MetaRequest request) {
    return request.toBuilder()
        .setMoveChunks(request.getMoveChunks().toBuilder().setChunkSize(chunkSize)).build();
  }
}
