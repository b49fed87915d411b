package io.shoalfs.server.data;

import java.time.Duration;
import java.util.Objects;

/**
 * What a data plane needs, beyond the local settings, to be one replica among several.
 *
 * @param memberId this node's member id, as the chunk map names replicas
 * @param downstream connections to peers (chain forwarding, replication pulls); shared with
 *     the healer and closed by whoever built it, not by the data plane
 * @param checker the chunk map's verdict on local copies, for the {@link OrphanCollector};
 *     null for none
 * @param orphanPeriod pause between orphan collection passes; zero turns the collector off
 * @param orphanGrace copies modified this recently are never collected
 */
public record ReplicaSettings(
    String memberId,
    DownstreamClients downstream,
    ReplicaChecker checker,
    Duration orphanPeriod,
    Duration orphanGrace) {

  public ReplicaSettings {
    Objects.requireNonNull(memberId, "memberId");
    Objects.requireNonNull(downstream, "downstream");
    Objects.requireNonNull(orphanPeriod, "orphanPeriod");
    Objects.requireNonNull(orphanGrace, "orphanGrace");
  }
}
