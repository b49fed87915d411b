package io.shoalfs.server.topology;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.rpc.ClientConnections;
import io.shoalfs.rpc.ClientPool;
import io.shoalfs.server.ClusterMembership;
import io.shoalfs.server.ServerConfig;
import io.shoalfs.server.ShoalServer;
import io.shoalfs.server.Topology;
import io.shoalfs.server.data.AbsentDataPlane;
import io.shoalfs.server.data.DataPlaneSettings;
import io.shoalfs.server.data.DownstreamClients;
import io.shoalfs.server.data.LocalDataPlane;
import io.shoalfs.server.data.OrphanCollector;
import io.shoalfs.server.data.ReplicaSettings;
import io.shoalfs.server.data.ReplicationManager;
import io.shoalfs.server.meta.ForwardingControlPlane;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * The disaggregated topology (GFS-style): a few metadata servers and any number of data nodes,
 * each server one or the other ({@code --role metadata|data}), scaled independently. Read top to
 * bottom, this is the architecture of each kind:
 *
 * <ul>
 *   <li>a <b>metadata server</b> is a member of the metadata group ({@link MetadataGroupMember}:
 *       the Raft group over RocksDB, placement, sessions, capabilities, and the healer beside
 *       it); it stores no chunks ({@link AbsentDataPlane}) and registers with the metadata role
 *       only, so placement, the healer and the mounts never ask it for data;
 *   <li>a <b>data node</b> stores chunk copies ({@code <data-dir>/chunks}), forwards writes down
 *       the replica chain, reaps the chunks of deleted files and collects orphans; it is not in
 *       the metadata group, and reaches the chunk map through a {@link ForwardingControlPlane}
 *       to the metadata servers (a metadata call a mount sends it is forwarded the same way);
 *       it registers with the data role only.
 * </ul>
 *
 * <p>The chunks of deleted files held by a dead data node are purged from the chunk map by one
 * live data node, the first in id order, so that exactly one node (at worst two, for the moment
 * the view changes; a purge is idempotent) does it. The replication factor is not capped: data
 * nodes join at any time, and a cluster with fewer data nodes than copies runs under-replicated
 * (the healer and {@code shoal status} say so) until enough join.
 */
public final class DisaggregatedTopology implements Topology {
  /** How long a data node's forwarded metadata call waits for one metadata server. */
  private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(30);

  @Override
  public String name() {
    return "disaggregated";
  }

  @Override
  public ServerConfig check(ServerConfig config) {
    MemberRole role = config.role().orElseThrow(() -> new IllegalArgumentException(
        "missing --role: a disaggregated server is a metadata server or a data node"));
    if (role == MemberRole.METADATA && config.raftPort() == 0) {
      throw new IllegalArgumentException("missing --raft-port: a metadata server is a member of"
          + " the metadata group");
    }
    if (role == MemberRole.DATA && config.raftPort() != 0) {
      throw new IllegalArgumentException("--raft-port is for metadata servers: a data node is"
          + " not in the metadata group");
    }
    return config;
  }

  @Override
  public ShoalServer assemble(ServerConfig config) {
    return config.role().orElseThrow() == MemberRole.METADATA
        ? metadataServer(config) : dataNode(config);
  }

  private static ShoalServer metadataServer(ServerConfig config) {
    ClusterMembership membership = new ClusterMembership(config);
    ClientConnections mounts = new ClientConnections();
    DownstreamClients dataNodes = new DownstreamClients();
    MetadataGroupMember metadata =
        MetadataGroupMember.assemble(config, membership, mounts, dataNodes);
    return new ShoalServer(config, membership, Set.of(MemberRole.METADATA), metadata.control(),
        new AbsentDataPlane(config.id()), dataNodes, mounts,
        () -> metadata.healer().counts().map(ReplicationManager.Counts::published));
  }

  private static ShoalServer dataNode(ServerConfig config) {
    ClusterMembership membership = new ClusterMembership(config);
    ForwardingControlPlane control = new ForwardingControlPlane(membership::view,
        new ClientPool("metadata", config.maxFrameBytes()), FORWARD_TIMEOUT);
    DownstreamClients peers = new DownstreamClients();
    ReplicaSettings replicas = new ReplicaSettings(config.id(), peers,
        new ChunkMapChecker(control), Duration.ofSeconds(config.orphanPeriodSeconds()),
        OrphanCollector.DEFAULT_GRACE);
    DataPlaneSettings dataSettings = DataPlaneSettings.defaults(config.dataDir().resolve("chunks"))
        .withSizes(config.chunkSizeBytes(), config.blockSizeBytes())
        .withReapPeriod(Duration.ofSeconds(config.reapPeriodSeconds()));
    NamespaceGarbage garbage = new NamespaceGarbage(control, holder -> {
      ClusterView view = membership.view();
      return view.isDead(holder) && purgesForTheDead(view, config.id());
    });
    return new ShoalServer(config, membership, Set.of(MemberRole.DATA), control,
        new LocalDataPlane(dataSettings, garbage, replicas), peers, new ClientConnections(),
        Optional::empty);
  }

  /** Whether {@code self} is the live data node that purges for dead ones: the first by id. */
  static boolean purgesForTheDead(ClusterView view, String self) {
    return view.dataNodes().stream().findFirst().map(MemberInfo::getId)
        .filter(self::equals).isPresent();
  }
}
