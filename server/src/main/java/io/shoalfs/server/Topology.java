package io.shoalfs.server;

/**
 * A way of assembling a server from a control plane and a data plane. Each topology is one
 * wiring file (see {@code io.shoalfs.server.topology}) registered in
 * {@code META-INF/services/io.shoalfs.server.Topology}; the server layer never names one.
 */
public interface Topology {

  /** The name given on the command line ({@code --topology NAME}). */
  String name();

  /** Builds the planes in dependency order; nothing is started yet. */
  ShoalServer assemble(ServerConfig config) throws Exception;
}
