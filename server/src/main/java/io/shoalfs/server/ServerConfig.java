package io.shoalfs.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one server process is told at start, from its command line.
 *
 * @param peers the metadata group's members as {@code id@host:raftPort}, this server included
 * @param replication copies of each chunk (capped at the number of servers)
 * @param minReplicas fewest live copies a write may go on with (capped at replication)
 * @param deadAfterSeconds how long a server may be down before its chunks are re-replicated
 * @param reapPeriodSeconds pause between passes deleting the chunks of deleted files
 * @param orphanPeriodSeconds pause between orphan collection passes; 0 turns the collector off
 */
public record ServerConfig(
    String id,
    String host,
    int rpcPort,
    int raftPort,
    Path dataDir,
    String etcdEndpoints,
    List<String> peers,
    int chunkSizeBytes,
    int blockSizeBytes,
    int maxFrameBytes,
    int leaseTtlSeconds,
    int replication,
    int minReplicas,
    int deadAfterSeconds,
    int reapPeriodSeconds,
    int orphanPeriodSeconds) {

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
      "id", "host", "rpc-port", "raft-port", "data-dir", "etcd", "peers",
      "chunk-size", "block-size", "max-frame", "lease-ttl",
      "replication", "min-replicas", "dead-after", "reap-period", "orphan-period");

  public String rpcAddress() {
    return host + ":" + rpcPort;
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
    int raftPort = Integer.parseInt(required(opts, "raft-port"));
    List<String> peers = new ArrayList<>();
    for (String p : opts.getOrDefault("peers", id + "@" + host + ":" + raftPort).split(",")) {
      if (!p.isBlank()) {
        peers.add(p.trim());
      }
    }
    if (peers.stream().noneMatch(p -> p.startsWith(id + "@"))) {
      throw new IllegalArgumentException("--peers does not include this server's id " + id);
    }
    int replication = Integer.parseInt(opts.getOrDefault("replication", "3"));
    if (replication < 1) {
      throw new IllegalArgumentException("--replication must be at least 1");
    }
    return new ServerConfig(
        id,
        host,
        Integer.parseInt(required(opts, "rpc-port")),
        raftPort,
        Path.of(required(opts, "data-dir")),
        required(opts, "etcd"),
        List.copyOf(peers),
        Integer.parseInt(opts.getOrDefault("chunk-size", String.valueOf(DEFAULT_CHUNK_SIZE))),
        Integer.parseInt(opts.getOrDefault("block-size", String.valueOf(DEFAULT_BLOCK_SIZE))),
        Integer.parseInt(opts.getOrDefault("max-frame", String.valueOf(DEFAULT_MAX_FRAME))),
        Integer.parseInt(opts.getOrDefault("lease-ttl", "5")),
        // A factor above the server count could never be met: cap it.
        Math.min(replication, peers.size()),
        Math.min(Integer.parseInt(opts.getOrDefault("min-replicas", "2")), Math.min(replication, peers.size())),
        Integer.parseInt(opts.getOrDefault("dead-after", "60")),
        atLeast(opts, "reap-period", "30", 1),
        atLeast(opts, "orphan-period", "300", 0));
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
