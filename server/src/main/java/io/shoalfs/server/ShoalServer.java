package io.shoalfs.server;

import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.rpc.ClientConnections;
import io.shoalfs.rpc.RpcServer;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server layer: serves RPCs for whichever planes a topology assembled, and keeps this
 * server's membership record in etcd. It never knows which topology it runs.
 */
public final class ShoalServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShoalServer.class);

  private final ServerConfig config;
  private final ClusterMembership membership;
  private final ControlPlaneOrchestrator control;
  private final DataPlaneOrchestrator data;
  private final AutoCloseable peerConnections;
  private final ClientConnections mounts;
  private final ExecutorService rpcExecutor;
  private final ScheduledExecutorService housekeeping;
  private final long startedMs = System.currentTimeMillis();
  private RpcServer rpcServer;

  /**
   * @param peerConnections connections to other servers the planes share; closed last
   * @param mounts where the RPC server keeps the connection of each mount, for the planes to
   *     push to (capability recalls)
   */
  public ShoalServer(ServerConfig config, ClusterMembership membership,
      ControlPlaneOrchestrator control, DataPlaneOrchestrator data, AutoCloseable peerConnections,
      ClientConnections mounts) {
    this.peerConnections = peerConnections;
    this.mounts = mounts;
    this.config = config;
    this.membership = membership;
    this.control = control;
    this.data = data;
    // Dispatch only: the planes run their blocking work on executors of their own.
    this.rpcExecutor = Executors.newFixedThreadPool(4, daemon("rpc-dispatch"));
    this.housekeeping = Executors.newSingleThreadScheduledExecutor(daemon("membership"));
  }

  public void start() throws Exception {
    membership.start();
    control.start();
    data.start();
    RpcDispatcher dispatcher = new RpcDispatcher(control, data, this::clusterStatus);
    rpcServer = new RpcServer(config.host(), config.rpcPort(), config.maxFrameBytes(), dispatcher,
        rpcExecutor, mounts);
    rpcServer.start();
    membership.register(memberInfo());
    // Free space changes as files are written: republish it now and then.
    housekeeping.scheduleWithFixedDelay(this::publishCapacity, 10, 10, TimeUnit.SECONDS);
    LOG.info("server {} serving on {} (metadata peers {})", config.id(), config.rpcAddress(), config.peers());
  }

  private MemberInfo memberInfo() {
    DataPlaneOrchestrator.StorageStats s = data.storageStats();
    return MemberInfo.newBuilder()
        .setId(config.id())
        .setAddress(config.rpcAddress())
        .setState("up")
        .setCapacityBytes(s.totalBytes())
        .setFreeBytes(s.freeBytes())
        .setStartedMs(startedMs)
        .build();
  }

  private void publishCapacity() {
    try {
      membership.update(memberInfo()).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("could not republish membership: {}", e.toString());
    }
  }

  private CompletableFuture<ClusterResponse> clusterStatus() {
    MetaRequest stats = MetaRequest.newBuilder().setNamespaceStats(NamespaceStatsOp.getDefaultInstance()).build();
    List<MemberInfo> members = membership.members();
    CompletableFuture<ChunkCensus.Counts> census = new ChunkCensus(control, config.replication()).count(members);
    return control.submit(stats).thenCombine(census, (r, counts) -> {
      ClusterResponse.Builder b = ClusterResponse.newBuilder()
          .addAllMembers(members)
          .setReplication(config.replication())
          .setInodeCount(r.getInodeCount())
          .setChunkCount(counts.chunks())
          .setUnderReplicated(counts.underReplicated());
      control.leaderId().ifPresent(b::setMetaLeader);
      return b.build();
    });
  }

  @Override
  public void close() throws IOException {
    LOG.info("server {} stopping", config.id());
    housekeeping.shutdownNow();
    // Leave etcd first, so clients stop picking this server while it shuts down.
    closeQuietly(membership);
    if (rpcServer != null) {
      rpcServer.close();
    }
    rpcExecutor.shutdownNow();
    closeQuietly(data);
    closeQuietly(control);
    closeQuietly(peerConnections);
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("error while closing {}: {}", c.getClass().getSimpleName(), e.toString());
    }
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
