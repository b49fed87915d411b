package io.shoalfs.server.meta;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * The control plane as one member of a Raft group (Apache Ratis over Netty) whose state
 * machine is the namespace ({@link MetaStateMachine}). Mutations go through the log; reads
 * are linearizable read-only queries to the leader.
 */
public final class RaftControlPlane implements ControlPlaneOrchestrator {

  /**
   * What a member needs to know.
   *
   * @param selfId this member's id; must be one of {@code peers}
   * @param peers every member of the group, id -> "host:port" of its Raft endpoint
   * @param dataDir where this member keeps its Raft log, snapshots and RocksDB store
   * @param groupName names the group; every member must use the same one
   * @param snapshotEvery entries applied between automatic snapshots (the log is purged up
   *     to the snapshot)
   * @param clientAttempts how many times a call is retried (leader changes, timeouts) before
   *     its future fails
   * @param clientRetrySleep pause between those attempts
   * @param snapshotOnStop snapshot when the member stops, so a restart replays nothing
   * @param logSegmentBytes the size at which a log segment is closed; only closed segments
   *     are purged after a snapshot, so this is also how much log a member keeps at least
   */
  public record Config(String selfId, List<RaftPeer> peers, Path dataDir, String groupName,
      long snapshotEvery, int clientAttempts, Duration clientRetrySleep, boolean snapshotOnStop,
      long logSegmentBytes) {

    public static final String DEFAULT_GROUP = "shoalfs-meta";
    public static final long DEFAULT_SNAPSHOT_EVERY = 100_000;
    public static final long DEFAULT_LOG_SEGMENT_BYTES = 32L << 20;

    public Config {
      Objects.requireNonNull(selfId, "selfId");
      peers = List.copyOf(peers);
      Objects.requireNonNull(dataDir, "dataDir");
      if (peers.stream().noneMatch(p -> p.getId().toString().equals(selfId))) {
        throw new IllegalArgumentException(selfId + " is not among the peers " + peers);
      }
      if (snapshotEvery < 1 || logSegmentBytes < 1024) {
        throw new IllegalArgumentException("snapshotEvery must be positive and logSegmentBytes"
            + " at least 1 KiB: " + snapshotEvery + ", " + logSegmentBytes);
      }
    }

    /**
     * Defaults: group "shoalfs-meta", a snapshot every 100k entries and on stop, 50 tries
     * 200 ms apart, 32 MiB log segments.
     */
    public static Config of(String selfId, List<RaftPeer> peers, Path dataDir) {
      return new Config(selfId, peers, dataDir, DEFAULT_GROUP, DEFAULT_SNAPSHOT_EVERY, 50,
          Duration.ofMillis(200), true, DEFAULT_LOG_SEGMENT_BYTES);
    }

    public Config withSnapshotEvery(long entries) {
      return new Config(selfId, peers, dataDir, groupName, entries, clientAttempts,
          clientRetrySleep, snapshotOnStop, logSegmentBytes);
    }

    public Config withSnapshotOnStop(boolean enabled) {
      return new Config(selfId, peers, dataDir, groupName, snapshotEvery, clientAttempts,
          clientRetrySleep, enabled, logSegmentBytes);
    }

    public Config withLogSegmentBytes(long bytes) {
      return new Config(selfId, peers, dataDir, groupName, snapshotEvery, clientAttempts,
          clientRetrySleep, snapshotOnStop, bytes);
    }
  }

  private final Config config;
  private final CapabilityRecallListener recalls;
  private final RaftGroup group;
  private final RaftPeer self;
  private RaftServer server;
  private MetaGroupClient client;
  private LocalLeaderSubmitter local;

  public RaftControlPlane(String selfId, List<RaftPeer> peers, Path dataDir) {
    this(Config.of(selfId, peers, dataDir));
  }

  public RaftControlPlane(Config config) {
    this(config, CapabilityRecallListener.NONE);
  }

  /**
   * @param recalls hears of each capability recall this member applies (see
   *     {@link MetaStateMachine})
   */
  public RaftControlPlane(Config config, CapabilityRecallListener recalls) {
    this.config = config;
    this.recalls = Objects.requireNonNull(recalls, "recalls");
    this.group = RaftGroup.valueOf(groupId(config.groupName()), config.peers());
    this.self = config.peers().stream()
        .filter(p -> p.getId().toString().equals(config.selfId()))
        .findFirst()
        .orElseThrow();
  }

  /** This member's id. */
  public String selfId() {
    return config.selfId();
  }

  /** The group id every member derives from the same name. */
  public static RaftGroupId groupId(String groupName) {
    return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(groupName.getBytes(StandardCharsets.UTF_8)));
  }

  /** Shorthand for a peer: id and "host:port". */
  public static RaftPeer peer(String id, String address) {
    return RaftPeer.newBuilder().setId(id).setAddress(address).build();
  }

  @Override
  public synchronized void start() throws IOException {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    Path raftDir = config.dataDir().resolve("raft");
    Files.createDirectories(raftDir);
    RaftProperties properties = serverProperties(raftDir);
    server = RaftServer.newBuilder()
        .setServerId(self.getId())
        .setGroup(group)
        .setStateMachine(new MetaStateMachine(recalls))
        .setProperties(properties)
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    server.start();
    RaftServer started = server;
    local = new LocalLeaderSubmitter(started, group.getGroupId());
    client = new MetaGroupClient(group, properties, config.clientAttempts(),
        config.clientRetrySleep(), () -> leaderOf(started), local);
  }

  /**
   * Sends the request to the group. The future completes on one of the client's own threads
   * (never a Netty event loop); it fails only when the retry policy ran out.
   */
  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    MetaGroupClient c;
    synchronized (this) {
      c = client;
    }
    if (c == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("control plane not started"));
    }
    return c.submit(request);
  }

  @Override
  public Optional<String> leaderId() {
    RaftServer s;
    synchronized (this) {
      s = server;
    }
    return s == null ? Optional.empty() : leaderOf(s).map(RaftPeerId::toString);
  }

  private Optional<RaftPeerId> leaderOf(RaftServer s) {
    try {
      return Optional.ofNullable(s.getDivision(group.getGroupId()).getInfo().getLeaderId());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Requests this member handed to its own server as leader, skipping the RaftClient. */
  synchronized long localSubmits() {
    return local == null ? 0 : local.submitted();
  }

  /** The index of the last log entry this member applied to its store (-1 before any). */
  long appliedIndex() throws IOException {
    return division().getInfo().getLastAppliedIndex();
  }

  /** The first index still in this member's log: entries below it were purged. */
  long firstLogIndex() throws IOException {
    return division().getRaftLog().getStartIndex();
  }

  /** The log index of this member's newest snapshot, taken or installed (-1 if none). */
  long latestSnapshotIndex() throws IOException {
    SnapshotInfo latest = division().getStateMachine().getLatestSnapshot();
    return latest == null ? -1 : latest.getIndex();
  }

  private RaftServer.Division division() throws IOException {
    RaftServer s;
    synchronized (this) {
      s = server;
    }
    if (s == null) {
      throw new IllegalStateException("control plane not started");
    }
    return s.getDivision(group.getGroupId());
  }

  /**
   * Answers a read from this member's own store, without asking the leader: possibly stale,
   * for diagnostics and tests that check what one member holds.
   */
  MetaResponse readLocally(MetaRequest request) throws IOException {
    try {
      Message answer = division().getStateMachine()
          .query(Message.valueOf(ByteString.copyFrom(request.toByteArray()))).get();
      return MetaResponse.parseFrom(answer.getContent().asReadOnlyByteBuffer());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IOException("local read failed", e.getCause());
    }
  }

  /**
   * Asks this member to snapshot now (operators, tests). Returns the log index of this
   * member's latest snapshot once it is on disk.
   */
  public long takeSnapshot(Duration timeout) throws IOException {
    MetaGroupClient c;
    RaftServer s;
    synchronized (this) {
      c = client;
      s = server;
    }
    if (c == null) {
      throw new IllegalStateException("control plane not started");
    }
    c.snapshot(self.getId(), timeout);
    SnapshotInfo latest = s.getDivision(group.getGroupId()).getStateMachine().getLatestSnapshot();
    return latest == null ? -1 : latest.getIndex();
  }

  @Override
  public synchronized void close() throws IOException {
    IOException failure = null;
    if (client != null) {
      try {
        client.close();
      } catch (IOException e) {
        failure = e;
      }
      client = null;
    }
    if (server != null) {
      try {
        server.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
      server = null;
    }
    if (failure != null) {
      throw failure;
    }
  }

  private RaftProperties serverProperties(Path raftDir) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.NETTY);
    String address = self.getAddress();
    int colon = address.lastIndexOf(':');
    NettyConfigKeys.Server.setHost(p, address.substring(0, colon));
    NettyConfigKeys.Server.setPort(p, Integer.parseInt(address.substring(colon + 1)));
    RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    // A leader that a majority acknowledged within the lease (0.9 x the minimum election
    // timeout) answers reads without first sending a heartbeat round to confirm it still
    // leads. Still linearizable as long as clocks drift less than the remaining 10% over a
    // lease: no follower votes for a new leader until a minimum election timeout after it last
    // heard from this one, so no other leader can have committed anything in the meantime.
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, true);
    // Elections only after 1-2 s of silence instead of Ratis's 150-300 ms: three servers and
    // their clients share two cores here, and a follower starved of CPU for 300 ms deposed a
    // healthy leader, stalling every call for an election plus a client retry. Failover takes
    // that much longer; heartbeats go every 500 ms (half the minimum). A member that has never
    // seen a leader (startup) still stands for election after 150-300 ms.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(1, TimeUnit.SECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2, TimeUnit.SECONDS));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p,
        TimeDuration.valueOf(150, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p,
        TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotEvery());
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, config.snapshotOnStop());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    // Purge as soon as a snapshot covers a closed segment (Ratis waits for a gap of 1024
    // entries by default, more than a small snapshotEvery).
    RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(1024, config.snapshotEvery()));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(config.logSegmentBytes()));
    // No log entry recording each new commit index: with it, every mutation cost each member
    // two log appends and two fsyncs (strace of the leader's log worker: a 17-byte metadata
    // entry after each namespace entry); a 1-member group's sequential make_node went 3.4 ->
    // 1.9 ms without it. Raft does not need the commit index on disk: a restarted member learns
    // it from the leader, and the state machine's store records what it already applied.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    return p;
  }
}
