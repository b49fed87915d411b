package io.shoalfs.server.topology;

import io.shoalfs.rpc.ClientConnections;
import io.shoalfs.server.ClusterMembership;
import io.shoalfs.server.ControlPlaneOrchestrator;
import io.shoalfs.server.RecallPusher;
import io.shoalfs.server.ServerConfig;
import io.shoalfs.server.data.DownstreamClients;
import io.shoalfs.server.data.ReplicationManager;
import io.shoalfs.server.meta.CapabilityRecaller;
import io.shoalfs.server.meta.ChunkSizeStamp;
import io.shoalfs.server.meta.PlacingControlPlane;
import io.shoalfs.server.meta.RaftControlPlane;
import io.shoalfs.server.meta.SessionReaper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The control plane of a server in the metadata group, the same in every topology that has one:
 * this server's member of the Raft group over RocksDB (state in {@code <data-dir>/meta}), placing
 * new chunks as it proposes them, ending the sessions of silent mounts while it leads, waiting
 * out the directory capabilities in a request's way (recalling them; every member pushes each
 * recall it applies to the holder's mount, if that mount is connected to it), with the healer
 * beside it, acting while this member leads.
 *
 * @param control the plane, with the healer attached (started and stopped with it)
 * @param healer its counts go into this server's membership record while it leads
 * @param leading whether this server leads the metadata group now
 */
record MetadataGroupMember(ControlPlaneOrchestrator control, ReplicationManager healer,
    BooleanSupplier leading) {

  private static final Duration HEAL_PERIOD = Duration.ofSeconds(5);
  // Mounts keep alive every 5 s; one silent for 20 s of a moving log is gone (as lock owners).
  private static final Duration SESSION_PERIOD = Duration.ofSeconds(5);
  private static final Duration SESSION_TTL = Duration.ofNanos(SessionReaper.SESSION_TTL_NS);
  // A holder that never gives a recalled capability back loses it with its session: within
  // the TTL plus a reaper period (and the margin of an expiry entry), after which a waiting
  // request goes through. Past this the mount is answered CAP_HELD (ETIMEDOUT).
  private static final Duration RECALL_BOUND =
      SESSION_TTL.plus(SESSION_PERIOD).plus(Duration.ofSeconds(5));

  /**
   * @param mounts the mounts' connections to this server, kept by its RPC server
   * @param dataNodes connections to the data nodes, for the healer's copies
   */
  static MetadataGroupMember assemble(ServerConfig config, ClusterMembership membership,
      ClientConnections mounts, DownstreamClients dataNodes) {
    RaftControlPlane raft = new RaftControlPlane(RaftControlPlane.Config.of(config.id(),
        raftPeers(config.peers()), config.dataDir().resolve("meta")), new RecallPusher(mounts));
    BooleanSupplier leading = () -> raft.leaderId().filter(config.id()::equals).isPresent();
    // allocate_chunk gets live data nodes filled in by the proposer, move_chunks the chunk
    // size, so that apply stays deterministic. Sessions are expired by whichever member leads.
    ControlPlaneOrchestrator control = new CapabilityRecaller(new SessionReaper(
        new ChunkSizeStamp(new PlacingControlPlane(raft, membership::view, config.replication(),
            config.minReplicas()), config.chunkSizeBytes()),
        leading, SESSION_PERIOD, SESSION_TTL), RECALL_BOUND);
    ReplicationManager healer = new ReplicationManager(control, membership::view, leading,
        config.replication(), dataNodes, HEAL_PERIOD);
    return new MetadataGroupMember(new ControlPlaneWithServices(control, List.of(healer)), healer,
        leading);
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
}
