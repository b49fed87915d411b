package io.shoalfs.server;

import io.shoalfs.proto.ChunkCounts;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.rpc.ClientConnections;
import io.shoalfs.rpc.RpcServer;
import java.io.IOException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server layer: serves RPCs for whichever planes a topology assembled, and keeps this
 * server's membership record in etcd, with the roles the topology gave it. It never knows
 * which topology it runs.
 *
 * <p>The record carries, besides the address and free space, the chunk counts of the healing
 * pass this server last completed while it led the metadata group: that is how
 * {@link ClusterStatus} on every server answers {@code shoal status} without reading the chunk
 * map. A new pass is published within a second of its end (one etcd put per pass, every few
 * seconds, on the leader only).
 */
public final class ShoalServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShoalServer.class);

  private final ServerConfig config;
  private final ClusterMembership membership;
  private final Set<MemberRole> roles;
  private final ControlPlaneOrchestrator control;
  private final DataPlaneOrchestrator data;
  private final Supplier<Optional<ChunkCounts>> chunkCounts;
  /** The counts in the last record built for etcd; after start, on the housekeeping thread only. */
  private Optional<ChunkCounts> publishedCounts = Optional.empty();
  private final AutoCloseable peerConnections;
  private final ClientConnections mounts;
  private final ExecutorService rpcExecutor;
  private final ScheduledExecutorService housekeeping;
  private final long startedMs = System.currentTimeMillis();
  private RpcServer rpcServer;

  /**
   * @param roles what this server serves, as its membership record says: the topology decides
   *     (the converged one: both; none at all is refused)
   * @param peerConnections connections to other servers the planes share; closed last
   * @param mounts where the RPC server keeps the connection of each mount, for the planes to
   *     push to (capability recalls)
   * @param chunkCounts the counts of the last complete healing pass this server made while it
   *     led the metadata group; empty when it made none or no longer leads
   */
  public ShoalServer(ServerConfig config, ClusterMembership membership, Set<MemberRole> roles,
      ControlPlaneOrchestrator control, DataPlaneOrchestrator data, AutoCloseable peerConnections,
      ClientConnections mounts, Supplier<Optional<ChunkCounts>> chunkCounts) {
    if (roles.isEmpty() || roles.contains(MemberRole.MEMBER_ROLE_UNSPECIFIED)
        || roles.contains(MemberRole.UNRECOGNIZED)) {
      throw new IllegalArgumentException("a server serves metadata, data or both, not " + roles);
    }
    // In role order, so that the record is the same whatever set the topology built.
    this.roles = Collections.unmodifiableSet(EnumSet.copyOf(roles));
    this.peerConnections = peerConnections;
    this.mounts = mounts;
    this.config = config;
    this.membership = membership;
    this.control = control;
    this.data = data;
    this.chunkCounts = chunkCounts;
    // Dispatch only: the planes run their blocking work on executors of their own.
    this.rpcExecutor = Executors.newFixedThreadPool(4, daemon("rpc-dispatch"));
    this.housekeeping = Executors.newSingleThreadScheduledExecutor(daemon("membership"));
  }

  public void start() throws Exception {
    membership.start();
    control.start();
    data.start();
    ClusterStatus status = new ClusterStatus(control, membership::view, config.replication());
    RpcDispatcher dispatcher = new RpcDispatcher(control, data, status::answer);
    rpcServer = new RpcServer(config.host(), config.rpcPort(), config.maxFrameBytes(), dispatcher,
        rpcExecutor, mounts);
    rpcServer.start();
    membership.register(memberInfo());
    // Free space changes as files are written: republish it now and then.
    housekeeping.scheduleWithFixedDelay(this::publishCapacity, 10, 10, TimeUnit.SECONDS);
    housekeeping.scheduleWithFixedDelay(this::publishNewCounts, 1, 1, TimeUnit.SECONDS);
    LOG.info("server {} serving on {} (metadata peers {})", config.id(), config.rpcAddress(), config.peers());
  }

  private MemberInfo memberInfo() {
    DataPlaneOrchestrator.StorageStats s = data.storageStats();
    MemberInfo.Builder b = MemberInfo.newBuilder()
        .setId(config.id())
        .setAddress(config.rpcAddress())
        .setState(MemberState.UP)
        .addAllRoles(roles)
        .setCapacityBytes(s.totalBytes())
        .setFreeBytes(s.freeBytes())
        .setStartedMs(startedMs);
    data.localReads().ifPresent(local -> b.setLocalReadSocket(local.socketPath())
        .setLocalReadToken(local.token()));
    publishedCounts = chunkCounts.get();
    publishedCounts.ifPresent(b::setPassCounts);
    return b.build();
  }

  /** Republishes the record when a pass ended (or this server stopped leading) since the last. */
  private void publishNewCounts() {
    if (!chunkCounts.get().equals(publishedCounts)) {
      publishCapacity();
    }
  }

  private void publishCapacity() {
    try {
      membership.update(memberInfo()).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("could not republish membership: {}", e.toString());
    }
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
