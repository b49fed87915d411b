package io.shoalfs.server.topology;

import io.shoalfs.proto.CheckReplicasOp;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.GarbageInode;
import io.shoalfs.proto.ListGarbageOp;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.PurgeOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.ClientConnections;
import io.shoalfs.server.ClusterMembership;
import io.shoalfs.server.ControlPlaneOrchestrator;
import io.shoalfs.server.DataPlaneOrchestrator;
import io.shoalfs.server.RecallPusher;
import io.shoalfs.server.ServerConfig;
import io.shoalfs.server.ShoalServer;
import io.shoalfs.server.Topology;
import io.shoalfs.server.data.DataPlaneSettings;
import io.shoalfs.server.data.GarbageSource;
import io.shoalfs.server.data.LocalDataPlane;
import io.shoalfs.server.data.DownstreamClients;
import io.shoalfs.server.data.OrphanCollector;
import io.shoalfs.server.data.ReplicaChecker;
import io.shoalfs.server.data.ReplicaSettings;
import io.shoalfs.server.data.ReplicationManager;
import io.shoalfs.server.meta.CapabilityRecaller;
import io.shoalfs.server.meta.PlacingControlPlane;
import io.shoalfs.server.meta.RaftControlPlane;
import io.shoalfs.server.meta.SessionReaper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The converged topology: every server is a member of the metadata Raft group AND a chunk
 * store. Read top to bottom, this is the architecture of a converged server:
 *
 * <ol>
 *   <li>the control plane: this server's member of the Raft group over RocksDB (state in
 *       {@code <data-dir>/meta}), placing new chunks as it proposes them, ending the sessions
 *       of silent mounts while it leads, and waiting out the directory capabilities in a
 *       request's way (recalling them; every member pushes each recall it applies to the
 *       holder's mount, if that mount is connected to it);
 *   <li>the data plane: chunk copies on this server's disk ({@code <data-dir>/chunks}),
 *       forwarded down the replica chain, healed by the metadata leader, and garbage-collected
 *       by asking the chunk map which copies are still wanted;
 *   <li>the server layer, which serves both over RPC and registers in etcd with both roles
 *       (metadata and data), so that placement, the healer and the mounts use it as both.
 * </ol>
 */
public final class ConvergedTopology implements Topology {

  @Override
  public String name() {
    return "converged";
  }

  @Override
  public ShoalServer assemble(ServerConfig config) {
    ClusterMembership membership = new ClusterMembership(config);
    // The mounts' connections to this server, kept by its RPC server: a capability recall this
    // member applies is pushed to the holder's mount on its connection, if it has one.
    ClientConnections mounts = new ClientConnections();
    // Control plane: a Raft member, behind placement (allocate_chunk gets live members filled in
    // by the proposer, so that apply stays deterministic).
    RaftControlPlane raft = new RaftControlPlane(RaftControlPlane.Config.of(config.id(),
        raftPeers(config.peers()), config.dataDir().resolve("meta")), new RecallPusher(mounts));
    // Mount sessions end when a mount goes silent: expired by whichever member leads. A request
    // in the way of another mount's directory capability waits while it is recalled.
    ControlPlaneOrchestrator control = new CapabilityRecaller(new SessionReaper(
        new PlacingControlPlane(raft, membership::view, config.replication(), config.minReplicas()),
        () -> raft.leaderId().filter(config.id()::equals).isPresent(), SESSION_PERIOD, SESSION_TTL),
        RECALL_BOUND);
    // Data plane: local chunk copies, chain forwarding to peers, orphan collection, and the
    // healer, which acts only while this server leads the metadata group.
    DownstreamClients peers = new DownstreamClients();
    BooleanSupplier leading = () -> control.leaderId().filter(config.id()::equals).isPresent();
    ReplicationManager healer = new ReplicationManager(control, membership::view, leading,
        config.replication(), peers, HEAL_PERIOD);
    // Orphans are only space: copies the chunk map dropped while their node was away, which a
    // pass finds within minutes (HDFS reconciles its disks every 6 hours). Each pass lists every
    // copy on the disk, so a short period costs in proportion to what the node stores.
    ReplicaSettings replicas = new ReplicaSettings(config.id(), peers, new ChunkMapChecker(control),
        Duration.ofSeconds(config.orphanPeriodSeconds()), OrphanCollector.DEFAULT_GRACE, healer);
    DataPlaneSettings dataSettings = DataPlaneSettings.defaults(config.dataDir().resolve("chunks"))
        .withSizes(config.chunkSizeBytes(), config.blockSizeBytes())
        .withReapPeriod(Duration.ofSeconds(config.reapPeriodSeconds()));
    // Every holder reaps its own copies of deleted files; the leader purges for the dead.
    GarbageSource garbage = new NamespaceGarbage(control,
        holder -> leading.getAsBoolean() && membership.view().isDead(holder));
    DataPlaneOrchestrator data = new LocalDataPlane(dataSettings, garbage, replicas);
    // The healer's counts go into this server's member record while it leads: every server
    // answers `shoal status` from the leader's record instead of reading the chunk map.
    return new ShoalServer(config, membership, ROLES, control, data, peers, mounts,
        () -> healer.counts().map(ReplicationManager.Counts::published));
  }

  /** Every converged server is a metadata endpoint and a data node, and says so in etcd. */
  private static final Set<MemberRole> ROLES = Set.of(MemberRole.METADATA, MemberRole.DATA);
  private static final Duration HEAL_PERIOD = Duration.ofSeconds(5);
  // Mounts keep alive every 5 s; one silent for 20 s of a moving log is gone (as lock owners).
  private static final Duration SESSION_PERIOD = Duration.ofSeconds(5);
  private static final Duration SESSION_TTL = Duration.ofNanos(SessionReaper.SESSION_TTL_NS);
  // A holder that never gives a recalled capability back loses it with its session: within
  // the TTL plus a reaper period (and the margin of an expiry entry), after which a waiting
  // request goes through. Past this the mount is answered CAP_HELD (ETIMEDOUT).
  private static final Duration RECALL_BOUND =
      SESSION_TTL.plus(SESSION_PERIOD).plus(Duration.ofSeconds(5));

  /** Adapts the chunk map's check_replicas to the orphan collector. */
  private record ChunkMapChecker(ControlPlaneOrchestrator control) implements ReplicaChecker {
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

  /** {@code id@host:port} strings as Raft peers. */
  static List<RaftPeer> raftPeers(List<String> peers) {
    List<RaftPeer> out = new ArrayList<>();
    for (String p : peers) {
      int at = p.indexOf('@');
      if (at <= 0) {
        throw new IllegalArgumentException("peer must be id@host:port, got " + p);
      }
      out.add(RaftControlPlane.peer(p.substring(0, at), p.substring(at + 1)));
    }
    return out;
  }

  /**
   * Adapts the namespace's garbage records to the data plane's reaper; {@code gone} says which
   * holders this server purges for (on the metadata leader: the dead ones).
   */
  private record NamespaceGarbage(ControlPlaneOrchestrator control, Predicate<String> gone)
      implements GarbageSource {
    @Override
    public CompletableFuture<List<GarbageInode>> listGarbage(long startInode, int limit) {
      MetaRequest list = MetaRequest.newBuilder().setListGarbage(
          ListGarbageOp.newBuilder().setStartInode(startInode).setLimit(limit)).build();
      return control.submit(list).thenApply(r -> {
        check(r);
        return r.getGarbageList();
      });
    }

    @Override
    public CompletableFuture<Void> purge(String holder, List<Long> inodes) {
      MetaRequest purge = MetaRequest.newBuilder()
          .setPurge(PurgeOp.newBuilder().setMember(holder).addAllInodes(inodes)).build();
      return control.submit(purge).thenAccept(NamespaceGarbage::check);
    }

    @Override
    public boolean isGone(String holder) {
      return gone.test(holder);
    }

    static void check(MetaResponse r) {
      if (r.getStatus() != Status.OK) {
        throw new IllegalStateException("garbage call failed: " + r.getStatus() + " " + r.getError());
      }
    }
  }
}
