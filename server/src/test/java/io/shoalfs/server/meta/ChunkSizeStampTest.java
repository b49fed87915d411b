package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MoveChunksOp;
import org.junit.jupiter.api.Test;

class ChunkSizeStampTest {

  @Test
  void aMoveIsProposedWithTheClustersChunkSizeWhateverTheCallerSaid() {
    PlacingControlPlaneTest.Recorder recorder = new PlacingControlPlaneTest.Recorder();
    ChunkSizeStamp stamp = new ChunkSizeStamp(recorder, 64 << 20);
    stamp.submit(MetaRequest.newBuilder().setMoveChunks(MoveChunksOp.newBuilder()
        .setSource(5).setTarget(6).addVersions(1).setChunkSize(4096)).build());
    assertEquals(64 << 20, recorder.last().getMoveChunks().getChunkSize());
    assertEquals(5, recorder.last().getMoveChunks().getSource());
    MetaRequest other = MetaRequest.newBuilder()
        .setGetAttr(GetAttrOp.newBuilder().setInode(1)).build();
    stamp.submit(other);
    assertSame(other, recorder.last(), "anything else passes through as it was");
  }
}
