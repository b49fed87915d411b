package io.shoalfs.server;

import io.etcd.jetcd.Client;
import io.shoalfs.cluster.ClusterSettingsMismatch;
import io.shoalfs.cluster.ClusterSettingsRecord;
import io.shoalfs.cluster.EtcdClients;
import java.io.IOException;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shoal-server --topology converged --id s1 ...}: settles the cluster settings with etcd
 * (exit 2 if a flag disagrees with them), picks the topology by name, assembles and starts the
 * server, and stops it cleanly on SIGTERM.
 */
public final class ShoalServerMain {
  private static final Logger LOG = LoggerFactory.getLogger(ShoalServerMain.class);

  /** The one flag read here rather than by {@link ServerConfig#parse}, without its {@code --}. */
  public static final String TOPOLOGY_FLAG = "topology";

  private ShoalServerMain() {}

  public static void main(String[] args) throws Exception {
    String topologyName = "converged";
    java.util.List<String> rest = new java.util.ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--" + TOPOLOGY_FLAG) && i + 1 < args.length) {
        topologyName = args[++i];
      } else {
        rest.add(args[i]);
      }
    }
    ServerConfig config;
    Topology topology;
    try {
      topology = find(topologyName);
      config = topology.check(ServerConfig.parse(rest.toArray(String[]::new)));
    } catch (IllegalArgumentException e) {
      System.err.println("shoal-server: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      config = settleClusterSettings(config);
    } catch (ClusterSettingsMismatch | IllegalArgumentException e) {
      // Refused before this server built, bound or registered anything.
      System.err.println("shoal-server: " + config.id() + " refuses to start: " + e.getMessage());
      System.exit(2);
      return;
    } catch (IOException e) {
      LOG.error("server {} failed to start: {}", config.id(), e.getMessage());
      System.exit(1);
      return;
    }
    ShoalServer server = topology.assemble(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        LOG.warn("error during shutdown", e);
      } finally {
        stopped.countDown();
      }
    }, "shutdown"));
    try {
      server.start();
    } catch (Exception e) {
      LOG.error("server {} failed to start", config.id(), e);
      System.exit(1);
    }
    stopped.await();
  }

  /**
   * The configuration with the cluster's chunk size, block size and replication factor, which
   * this server records if it is the first (see {@link ClusterSettingsCheck}).
   */
  private static ServerConfig settleClusterSettings(ServerConfig config)
      throws ClusterSettingsMismatch, IOException, InterruptedException {
    try (Client etcd = EtcdClients.connect(config.etcdEndpoints())) {
      ServerConfig settled = ClusterSettingsCheck.settle(config,
          new ClusterSettingsRecord(etcd, ClusterSettingsRecord.DEFAULT_DEADLINE));
      LOG.info("cluster settings: chunk size {}, block size {}, replication {}",
          settled.chunkSizeBytes(), settled.blockSizeBytes(), settled.replication());
      return settled;
    }
  }

  private static Topology find(String name) {
    for (Topology t : ServiceLoader.load(Topology.class)) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown topology: " + name);
  }
}
