package io.shoalfs.server.topology;

import io.shoalfs.proto.MemberRole;
import io.shoalfs.rpc.ClientConnections;
import io.shoalfs.server.ClusterMembership;
import io.shoalfs.server.DataPlaneOrchestrator;
import io.shoalfs.server.ServerConfig;
import io.shoalfs.server.ShoalServer;
import io.shoalfs.server.Topology;
import io.shoalfs.server.data.DataPlaneSettings;
import io.shoalfs.server.data.DownstreamClients;
import io.shoalfs.server.data.LocalDataPlane;
import io.shoalfs.server.data.OrphanCollector;
import io.shoalfs.server.data.ReplicaSettings;
import io.shoalfs.server.data.ReplicationManager;
import java.time.Duration;
import java.util.Set;

/**
 * The converged topology: every server is a member of the metadata Raft group AND a chunk
 * store. Read top to bottom, this is the architecture of a converged server:
 *
 * <ol>
 *   <li>the control plane: this server's member of the metadata group
 *       ({@link MetadataGroupMember}), with the healer beside it;
 *   <li>the data plane: chunk copies on this server's disk ({@code <data-dir>/chunks}),
 *       forwarded down the replica chain, garbage-collected by asking the chunk map which
 *       copies are still wanted, the chunks of deleted files reaped by every holder, and by the
 *       metadata leader for the holders that are dead;
 *   <li>the server layer, which serves both over RPC and registers in etcd with both roles
 *       (metadata and data), so that placement, the healer and the mounts use it as both.
 * </ol>
 *
 * <p>A chunk cannot have more copies than there are servers: the replication factor asked for
 * is capped at the number of {@code --peers}.
 */
public final class ConvergedTopology implements Topology {
  /** The short-circuit socket, in the server's data directory. */
  static final String LOCAL_READ_SOCKET = "local-read.sock";

  /** Every converged server is a metadata endpoint and a data node, and says so in etcd. */
  private static final Set<MemberRole> ROLES = Set.of(MemberRole.METADATA, MemberRole.DATA);

  @Override
  public String name() {
    return "converged";
  }

  @Override
  public ServerConfig check(ServerConfig config) {
    if (config.role().isPresent()) {
      throw new IllegalArgumentException("--role is for the disaggregated topology: a converged"
          + " server serves both metadata and data");
    }
    if (config.raftPort() == 0) {
      throw new IllegalArgumentException("missing --raft-port: every converged server is a"
          + " member of the metadata group");
    }
    return config.withReplicationCappedAt(config.peers().size());
  }

  @Override
  public ShoalServer assemble(ServerConfig config) {
    ClusterMembership membership = new ClusterMembership(config);
    ClientConnections mounts = new ClientConnections();
    DownstreamClients peers = new DownstreamClients();
    MetadataGroupMember metadata = MetadataGroupMember.assemble(config, membership, mounts, peers);
    // Orphans are only space: copies the chunk map dropped while their node was away, which a
    // pass finds within minutes (HDFS reconciles its disks every 6 hours). Each pass lists every
    // copy on the disk, so a short period costs in proportion to what the node stores.
    ReplicaSettings replicas = new ReplicaSettings(config.id(), peers,
        new ChunkMapChecker(metadata.control()), Duration.ofSeconds(config.orphanPeriodSeconds()),
        OrphanCollector.DEFAULT_GRACE);
    DataPlaneSettings dataSettings = DataPlaneSettings.defaults(config.dataDir().resolve("chunks"))
        .withSizes(config.chunkSizeBytes(), config.blockSizeBytes())
        .withReapPeriod(Duration.ofSeconds(config.reapPeriodSeconds()));
    NamespaceGarbage garbage = new NamespaceGarbage(metadata.control(),
        holder -> metadata.leading().getAsBoolean() && membership.view().isDead(holder));
    // Locality is this topology's reason to exist: a mount on a server's host reads that
    // server's current copies through their file descriptors (short-circuit local reads).
    DataPlaneOrchestrator data = new LocalDataPlane(dataSettings, garbage, replicas)
        .offeringLocalReads(config.dataDir().resolve(LOCAL_READ_SOCKET));
    return new ShoalServer(config, membership, ROLES, metadata.control(), data, peers, mounts,
        () -> metadata.healer().counts().map(ReplicationManager.Counts::published));
  }
}
