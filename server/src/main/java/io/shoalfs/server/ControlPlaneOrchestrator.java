package io.shoalfs.server;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The control plane as the server layer sees it: the namespace, whatever replicates it.
 *
 * <p>The converged topology runs it on every server as a member of one Raft group; a
 * disaggregated topology runs it on dedicated metadata servers and gives data nodes a
 * forwarding implementation. Either way the server layer only calls these methods.
 */
public interface ControlPlaneOrchestrator extends AutoCloseable {

  /** Joins (or forms) the metadata group and replays whatever the local store lacks. */
  void start() throws IOException;

  /**
   * Executes one metadata operation. Mutations are replicated and applied in log order;
   * reads are linearizable. The future always completes with a response whose status tells
   * the outcome; it completes exceptionally only when the group could not be reached.
   */
  CompletableFuture<MetaResponse> submit(MetaRequest request);

  /** The id of the member currently leading the metadata group, if one is known. */
  Optional<String> leaderId();

  @Override
  void close() throws IOException;
}
