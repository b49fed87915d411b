package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.MoveChunksOp;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ChunkSizeStampTest {

  /** Records what it is asked to propose. */
  static final class Recorder implements ControlPlaneOrchestrator {
    final List<MetaRequest> proposed = new ArrayList<>();

    @Override
    public void start() {}

    @Override
    public CompletableFuture<MetaResponse> submit(MetaRequest request) {
      proposed.add(request);
      return CompletableFuture.completedFuture(MetaResponse.getDefaultInstance());
    }

    @Override
    public Optional<String> leaderId() {
      return Optional.empty();
    }

    @Override
    public void close() {}
  }

  @Test
  void aMoveIsProposedWithTheClustersChunkSizeWhateverTheCallerSaid() {
    Recorder recorder = new Recorder();
    ChunkSizeStamp stamp = new ChunkSizeStamp(recorder, 64 << 20);
    stamp.submit(MetaRequest.newBuilder().setMoveChunks(MoveChunksOp.newBuilder()
        .setSource(5).setTarget(6).addVersions(1).setChunkSize(4096)).build());
    MetaRequest other = MetaRequest.newBuilder()
        .setGetAttr(GetAttrOp.newBuilder().setInode(1)).build();
    stamp.submit(other);
    assertEquals(64 << 20, recorder.proposed.get(0).getMoveChunks().getChunkSize());
    assertEquals(5, recorder.proposed.get(0).getMoveChunks().getSource());
    assertSame(other, recorder.proposed.get(1), "anything else passes through as it was");
  }
}
