package io.shoalfs.server;

import io.shoalfs.proto.ClusterSettings;
import io.shoalfs.proto.MemberRole;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Everything one server process is told at start, from its command line.
 *
 * <p>The chunk size, block size and replication factor are the cluster's, recorded when it was
 * formed: {@link ClusterSettingsCheck} applies them ({@link #withClusterSettings}) before
 * anything is built, and refuses a flag that disagrees. Until then they hold what the flags
 * ask, or the defaults: what this server would record if it formed the cluster.
 *
 * @param raftPort the metadata group's port on this server; 0 for a server outside the group
 * @param peers the metadata group's members as {@code id@host:raftPort}, this server included;
 *     empty for a server outside the group
 * @param role the one role this server has, for a topology that gives servers one role
 *     ({@code --role metadata|data}); empty where the topology decides
 * @param chunkSizeBytes bytes per chunk (the cluster's)
 * @param blockSizeBytes bytes per checksummed block (the cluster's)
 * @param replication copies of each chunk (the cluster's; the topology may cap what is asked,
 *     see {@link Topology#check})
 * @param minReplicas fewest live copies a write may go on with (capped at replication)
 * @param deadAfterSeconds how long a server may be down before its chunks are re-replicated
 * @param reapPeriodSeconds pause between passes deleting the chunks of deleted files
 * @param orphanPeriodSeconds pause between orphan collection passes; 0 turns the collector off
 * @param given the cluster settings the command line gave explicitly
 */
public record ServerConfig(
    String id,
    String host,
    int rpcPort,
    int raftPort,
    Path dataDir,
    String etcdEndpoints,
    List<String> peers,
    Optional<MemberRole> role,
    int chunkSizeBytes,
    int blockSizeBytes,
    int maxFrameBytes,
    int leaseTtlSeconds,
    int replication,
    int minReplicas,
    int deadAfterSeconds,
    int reapPeriodSeconds,
    int orphanPeriodSeconds,
    GivenSettings given) {

  /**
   * The cluster settings given as flags, as typed; empty where the flag was left out, which
   * takes the cluster's value.
   */
  public record GivenSettings(OptionalInt chunkSize, OptionalInt blockSize,
      OptionalInt replication) {}

  public static final int DEFAULT_CHUNK_SIZE = 64 << 20;
  public static final int DEFAULT_BLOCK_SIZE = 64 << 10;
  /** Room for the largest data call (a FUSE write is at most 128 KiB; reads ask up to 4 MiB). */
  public static final int DEFAULT_MAX_FRAME = 16 << 20;

  /**
   * Every flag {@link #parse} accepts, without the leading {@code --}; any other is an error.
   * The README's server flag table lists each of them (ReadmeFlagsTest checks it). The
   * topology flag is read by {@link ShoalServerMain} before this parser sees the rest.
   */
  public static final List<String> FLAGS = List.of(
      "id", "host", "rpc-port", "raft-port", "data-dir", "etcd", "peers", "role",
      "chunk-size", "block-size", "max-frame", "lease-ttl",
      "replication", "min-replicas", "dead-after", "reap-period", "orphan-period");

  public String rpcAddress() {
    return host + ":" + rpcPort;
  }

  /** This configuration with the cluster's chunk size, block size and replication factor. */
  public ServerConfig withClusterSettings(ClusterSettings cluster) {
    return withSettings(cluster.getChunkSize(), cluster.getBlockSize(), cluster.getReplication());
  }

  /**
   * This configuration with at most {@code servers} copies of a chunk (and as many live copies
   * required at most): a factor above the number of servers that store chunks could never be met.
   */
  public ServerConfig withReplicationCappedAt(int servers) {
    return withSettings(chunkSizeBytes, blockSizeBytes, Math.min(replication, servers));
  }

  private ServerConfig withSettings(int chunkSize, int blockSize, int copies) {
    return new ServerConfig(id, host, rpcPort, raftPort, dataDir, etcdEndpoints, peers, role,
        chunkSize, blockSize, maxFrameBytes, leaseTtlSeconds, copies,
        Math.min(minReplicas, copies), deadAfterSeconds, reapPeriodSeconds, orphanPeriodSeconds,
        given);
  }

  public static ServerConfig parse(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got: " + a);
      }
      String name = a.substring(2);
      if (!FLAGS.contains(name)) {
        throw new IllegalArgumentException("unknown flag " + a + " (accepted: --"
            + String.join(", --", FLAGS) + ", and --" + ShoalServerMain.TOPOLOGY_FLAG + ")");
      }
      opts.put(name, args[++i]);
    }
    String id = required(opts, "id");
    String host = opts.getOrDefault("host", "127.0.0.1");
    // Without --raft-port the server is outside the metadata group (a data node): it has no
    // peers. With it, --peers defaults to this server alone and must include it.
    int raftPort = Integer.parseInt(opts.getOrDefault("raft-port", "0"));
    List<String> peers = new ArrayList<>();
    if (raftPort != 0) {
      for (String p : opts.getOrDefault("peers", id + "@" + host + ":" + raftPort).split(",")) {
        if (!p.isBlank()) {
          peers.add(p.trim());
        }
      }
      if (peers.stream().noneMatch(p -> p.startsWith(id + "@"))) {
        throw new IllegalArgumentException("--peers does not include this server's id " + id);
      }
    } else if (opts.containsKey("peers")) {
      throw new IllegalArgumentException("--peers needs --raft-port: only a member of the"
          + " metadata group has peers");
    }
    OptionalInt chunkSize = given(opts, "chunk-size");
    OptionalInt blockSize = given(opts, "block-size");
    OptionalInt givenReplication = given(opts, "replication");
    int replication = givenReplication.orElse(3);
    return new ServerConfig(
        id,
        host,
        Integer.parseInt(required(opts, "rpc-port")),
        raftPort,
        Path.of(required(opts, "data-dir")),
        required(opts, "etcd"),
        List.copyOf(peers),
        role(opts.get("role")),
        chunkSize.orElse(DEFAULT_CHUNK_SIZE),
        blockSize.orElse(DEFAULT_BLOCK_SIZE),
        Integer.parseInt(opts.getOrDefault("max-frame", String.valueOf(DEFAULT_MAX_FRAME))),
        Integer.parseInt(opts.getOrDefault("lease-ttl", "5")),
        replication,
        Math.min(Integer.parseInt(opts.getOrDefault("min-replicas", "2")), replication),
        Integer.parseInt(opts.getOrDefault("dead-after", "60")),
        atLeast(opts, "reap-period", "30", 1),
        atLeast(opts, "orphan-period", "300", 0),
        new GivenSettings(chunkSize, blockSize, givenReplication));
  }

  /** {@code --role}: {@code metadata} or {@code data}, if given. */
  private static Optional<MemberRole> role(String value) {
    if (value == null) {
      return Optional.empty();
    }
    return switch (value) {
      case "metadata" -> Optional.of(MemberRole.METADATA);
      case "data" -> Optional.of(MemberRole.DATA);
      default -> throw new IllegalArgumentException("--role must be metadata or data, got "
          + value);
    };
  }

  /** A cluster setting's flag, if given: a positive number. */
  private static OptionalInt given(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null) {
      return OptionalInt.empty();
    }
    int n = Integer.parseInt(v);
    if (n < 1) {
      throw new IllegalArgumentException("--" + name + " must be at least 1, got " + n);
    }
    return OptionalInt.of(n);
  }

  private static int atLeast(Map<String, String> opts, String name, String dflt, int min) {
    int v = Integer.parseInt(opts.getOrDefault(name, dflt));
    if (v < min) {
      throw new IllegalArgumentException("--" + name + " must be at least " + min + ", got " + v);
    }
    return v;
  }

  private static String required(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("missing --" + name);
    }
    return v;
  }
}
