package io.shoalfs.client.writeback;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.MemberInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Places the first chunk of a file this mount makes locally: `replication` data nodes that are
 * up (see ClusterView), starting one further along for each file, so new files spread over
 * every data node as the servers' own placement spreads them. The journal registers the
 * placement with the file.
 */
final class ChunkPlacer {
  private final Supplier<List<MemberInfo>> members;
  private final AtomicInteger turn = new AtomicInteger();

  ChunkPlacer(Supplier<List<MemberInfo>> members) {
    this.members = members;
  }

  /** Data node ids in chain order, or null when fewer than {@code minReplicas} are up. */
  List<String> place(int replication, int minReplicas) {
    if (replication <= 0) {
      return null;
    }
    List<String> up = ClusterView.of(members.get()).dataNodes().stream().map(MemberInfo::getId)
        .toList(); // in id order
    if (up.isEmpty() || up.size() < Math.max(1, minReplicas)) {
      return null;
    }
    int first = Math.floorMod(turn.getAndIncrement(), up.size());
    List<String> chain = new ArrayList<>();
    for (int i = 0; i < Math.min(replication, up.size()); i++) {
      chain.add(up.get((first + i) % up.size()));
    }
    return chain;
  }
}
