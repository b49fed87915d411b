package io.shoalfs.server.topology;

import io.shoalfs.proto.CheckReplicasOp;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.server.ControlPlaneOrchestrator;
import io.shoalfs.server.data.ReplicaChecker;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Adapts the chunk map's check_replicas, through whatever control plane a node has, to the orphan collector. */
record ChunkMapChecker(ControlPlaneOrchestrator control) implements ReplicaChecker {
  @Override
  public CompletableFuture<List<ChunkLocation>> garbage(String memberId, List<ChunkLocation> held) {
    MetaRequest check = MetaRequest.newBuilder()
        .setCheckReplicas(CheckReplicasOp.newBuilder().setMember(memberId).addAllHeld(held))
        .build();
    return control.submit(check).thenApply(r -> {
      NamespaceGarbage.check(r);
      return r.getLocationsList();
    });
  }
}
