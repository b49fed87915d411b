package io.shoalfs.client;

import io.etcd.jetcd.Client;
import io.shoalfs.cluster.ClusterSettingsMismatch;
import io.shoalfs.cluster.EtcdClients;
import io.shoalfs.cluster.MemberDirectory;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.ClusterRequest;
import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.ClusterStatusOp;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * The {@code shoal} command line.
 *
 * <pre>
 *   shoal mount [--chunk-size BYTES] [--no-short-circuit] ETCD_ENDPOINTS MOUNTPOINT
 *                                           mount ShoalFS (stays in the foreground until unmounted)
 *   shoal status ETCD_ENDPOINTS             members, their state, metadata leader, capacity
 *   shoal wait ETCD_ENDPOINTS N             exit 0 once N servers are registered and metadata answers
 *   shoal locate ETCD_ENDPOINTS INODE       where each chunk of a file lives: index, version, replicas
 * </pre>
 */
public final class ShoalCli {
  /**
   * The subcommands {@link #main} runs; any other prints the usage. The README's client table
   * lists each of them (ReadmeCommandsTest checks it).
   */
  public static final List<String> COMMANDS = List.of("mount", "status", "wait", "locate");

  private ShoalCli() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2 || !COMMANDS.contains(args[0])) {
      System.exit(usage());
    }
    if (!args[0].equals("mount")) {
      // A one-shot command prints its answer; the member directory's progress is not part of it.
      // Set before the first logger exists: the simple logger reads it once.
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    int code;
    switch (args[0]) {
      case "mount" -> code = mount(Arrays.copyOfRange(args, 1, args.length));
      case "status" -> code = status(args[1]);
      case "wait" -> code = args.length == 3 ? await(args[1], Integer.parseInt(args[2])) : usage();
      case "locate" -> code = args.length == 3 ? locate(args[1], Long.parseLong(args[2])) : usage();
      default -> code = usage();
    }
    System.exit(code);
  }

  private static int usage() {
    System.err.println("usage: shoal mount [--chunk-size BYTES] [--no-short-circuit]"
        + " ETCD_ENDPOINTS MOUNTPOINT"
        + " | status ETCD_ENDPOINTS"
        + " | wait ETCD_ENDPOINTS N | locate ETCD_ENDPOINTS INODE");
    System.exit(2);
    return 2;
  }

  /**
   * The servers to send metadata and status calls to: the metadata endpoints that are up (a
   * down member's address answers nobody; a data node serves no metadata).
   */
  private static List<String> addresses(MemberDirectory directory) {
    return directory.view().metadataEndpoints().stream().map(MemberInfo::getAddress).toList();
  }

  /** {@code [--chunk-size BYTES] [--no-short-circuit] ETCD_ENDPOINTS MOUNTPOINT}. */
  private static int mount(String[] args) throws Exception {
    OptionalLong chunkSize = OptionalLong.empty();
    boolean shortCircuit = true;
    int at = 0;
    while (at < args.length && args[at].startsWith("--")) {
      if (args[at].equals("--no-short-circuit")) {
        shortCircuit = false;
        at++;
      } else if (args[at].equals("--chunk-size") && at + 1 < args.length) {
        if (!args[at + 1].matches("[1-9][0-9]{0,17}")) {
          System.err.println("shoal: --chunk-size must be a positive number of bytes, got "
              + args[at + 1]);
          return 2;
        }
        chunkSize = OptionalLong.of(Long.parseLong(args[at + 1]));
        at += 2;
      } else {
        return usage();
      }
    }
    return args.length - at == 2
        ? mount(args[at], Path.of(args[at + 1]), chunkSize, shortCircuit) : usage();
  }

  /**
   * Mounts with the cluster's chunk size, read from etcd; {@code chunkSize}, if given, must be
   * that one (exit 2 if not). {@code shortCircuit}: read current copies on this host through
   * their descriptors where a server here offers them.
   */
  static int mount(String etcdEndpoints, Path mountPoint, OptionalLong chunkSize,
      boolean shortCircuit) throws Exception {
    if (!Files.isDirectory(mountPoint)) {
      System.err.println("shoal: mount point " + mountPoint + " is not a directory");
      return 1;
    }
    try (ClusterConnection cluster = ClusterConnection.open(etcdEndpoints)) {
      long clusterChunkSize;
      try {
        clusterChunkSize = ClusterChunkSize.of(cluster.settings(), chunkSize);
      } catch (ClusterSettingsMismatch e) {
        System.err.println("shoal: the mount refuses to start: " + e.getMessage());
        return 2;
      }
      RpcTransport transport = cluster.transport();
      int blockSize = cluster.settings().getBlockSize() > 0 ? cluster.settings().getBlockSize()
          : ShortCircuitSettings.DEFAULT_BLOCK_SIZE;
      ShoalFuse fs = new ShoalFuse(transport, ShoalFuseConfig.defaults()
          .withChunkSize(clusterChunkSize)
          .withShortCircuit(new ShortCircuitSettings(shortCircuit, blockSize)));
      // SIGTERM unmounts; a `fusermount -u` ends the blocking mount call below.
      Runtime.getRuntime().addShutdownHook(new Thread(fs::close, "unmount"));
      fs.mount(mountPoint, true, false);
      transport.close();
    } catch (ClusterConnection.NoSettings e) {
      System.err.println("shoal: " + e.getMessage());
      return 1;
    }
    return 0;
  }

  static int status(String etcdEndpoints) throws Exception {
    try (Client etcd = EtcdClients.connect(etcdEndpoints);
         MemberDirectory directory = new MemberDirectory(etcd)) {
      directory.start();
      List<String> servers = addresses(directory);
      if (servers.isEmpty()) {
        System.out.println("no metadata server is up in etcd at " + etcdEndpoints);
        return 1;
      }
      Envelope request = Envelope.newBuilder()
          .setClusterRequest(ClusterRequest.newBuilder().setStatus(ClusterStatusOp.getDefaultInstance()))
          .build();
      // Any server answers; one may have just died without its key expiring yet, so try on.
      Exception last = null;
      for (String server : servers) {
        try {
          ClusterResponse r = call(server, request).getClusterResponse();
          System.out.println(StatusReport.format(r));
          return r.getStatus() == Status.OK ? 0 : 1;
        } catch (Exception e) {
          last = e;
          System.err.println("shoal: " + server + " did not answer: " + e);
        }
      }
      System.out.println("no server answered (tried " + servers + "): " + last);
      return 1;
    }
  }

  static int await(String etcdEndpoints, int count) throws Exception {
    try (Client etcd = EtcdClients.connect(etcdEndpoints);
         MemberDirectory directory = new MemberDirectory(etcd)) {
      directory.start();
      directory.awaitMembers(count, Duration.ofSeconds(5));
      List<String> servers = addresses(directory);
      if (servers.isEmpty()) {
        System.err.println("shoal: " + count + " or more members are up, but no metadata server");
        return 1;
      }
      MetaRequest root = MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(1)).build();
      MetaResponse r = call(servers.get(0), Envelope.newBuilder().setMetaRequest(root).build())
          .getMetaResponse();
      return r.getStatus() == Status.OK ? 0 : 1;
    }
  }

  /**
   * Prints one line per chunk of an inode, {@code INDEX VERSION REPLICA,REPLICA,...}, replicas
   * in chain order (the first is the one reads try first). For operators and the e2e suite.
   */
  static int locate(String etcdEndpoints, long inode) throws Exception {
    try (Client etcd = EtcdClients.connect(etcdEndpoints);
         MemberDirectory directory = new MemberDirectory(etcd)) {
      directory.start();
      MetaRequest op = MetaRequest.newBuilder()
          .setGetChunkLocations(GetChunkLocationsOp.newBuilder()
              .setInode(inode).setFirstIndex(0).setCount(Integer.MAX_VALUE))
          .build();
      Envelope request = Envelope.newBuilder().setMetaRequest(op).build();
      Exception last = null;
      for (String server : addresses(directory)) {
        try {
          MetaResponse r = call(server, request).getMetaResponse();
          if (r.getStatus() != Status.OK) {
            System.err.println("shoal: locate " + inode + ": " + r.getStatus() + " " + r.getError());
            return 1;
          }
          for (ChunkLocation l : r.getLocationsList()) {
            System.out.println(l.getChunk().getIndex() + " " + l.getVersion() + " "
                + String.join(",", l.getReplicasList()));
          }
          return 0;
        } catch (Exception e) {
          last = e;
        }
      }
      System.err.println("shoal: no server answered: " + last);
      return 1;
    }
  }

  private static Envelope call(String address, Envelope request) throws Exception {
    int colon = address.lastIndexOf(':');
    try (RpcClient client = new RpcClient(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)), ClusterConnection.MAX_FRAME)) {
      return client.call(request, Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS);
    }
  }
}
