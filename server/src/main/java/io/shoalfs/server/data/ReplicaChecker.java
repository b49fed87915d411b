package io.shoalfs.server.data;

import io.shoalfs.proto.ChunkLocation;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the {@link OrphanCollector} learns which of this node's chunk copies the chunk map
 * no longer counts. The wiring adapts it to the control plane's check_replicas call, so the
 * data plane never depends on the metadata code.
 */
public interface ReplicaChecker {

  /**
   * Of the copies {@code memberId} holds (each with the copy's version, replicas empty), the
   * ones that are garbage: not in the chunk map, or {@code memberId} not among its replicas.
   */
  CompletableFuture<List<ChunkLocation>> garbage(String memberId, List<ChunkLocation> held);
}
