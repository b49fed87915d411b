package io.shoalfs.server;

/**
 * A way of assembling a server from a control plane and a data plane. Each topology is one
 * wiring file (see {@code io.shoalfs.server.topology}) registered in
 * {@code META-INF/services/io.shoalfs.server.Topology}; the server layer never names one.
 */
public interface Topology {

  /** The name given on the command line ({@code --topology NAME}). */
  String name();

  /**
   * The configuration this topology runs with: refuses (IllegalArgumentException, with the
   * flag to fix) a command line that lacks what it needs or gives what it has no use for, and
   * applies its limits (a converged cluster caps the replication factor at its server count).
   * Called before the cluster settings are settled, so what is recorded is what will run.
   */
  ServerConfig check(ServerConfig config);

  /** Builds the planes in dependency order; nothing is started yet. */
  ShoalServer assemble(ServerConfig config) throws Exception;
}
