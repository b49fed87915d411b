package io.shoalfs.server;

import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shoal-server --topology converged --id s1 ...}: picks the topology by name, assembles
 * and starts the server, and stops it cleanly on SIGTERM.
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
    try {
      config = ServerConfig.parse(rest.toArray(String[]::new));
    } catch (IllegalArgumentException e) {
      System.err.println("shoal-server: " + e.getMessage());
      System.exit(2);
      return;
    }
    Topology topology = find(topologyName);
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

  private static Topology find(String name) {
    for (Topology t : ServiceLoader.load(Topology.class)) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown topology: " + name);
  }
}
