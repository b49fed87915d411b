package io.shoalfs.server;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The data plane as the server layer sees it: chunk storage on this node, and the
 * background work (garbage collection today, re-replication later) that keeps it right.
 */
public interface DataPlaneOrchestrator extends AutoCloseable {

  void start() throws IOException;

  /**
   * Executes one data operation off the event loop. The future completes with a response
   * whose status tells the outcome (EIO/CORRUPT for a block whose checksum fails, ENOSPC
   * for a full disk). Called on the network event loop that read the request: it must
   * return at once, with any disk or blocking work queued on threads of its own.
   */
  CompletableFuture<DataResponse> handle(DataRequest request);

  /** Bytes of the volume holding the chunks: total, free, and used by chunks. */
  StorageStats storageStats();

  /**
   * Where a mount on this host may ask for chunk file descriptors (short-circuit local reads);
   * empty when this plane offers none. Known once started.
   */
  default Optional<LocalReadEndpoint> localReads() {
    return Optional.empty();
  }

  @Override
  void close() throws IOException;

  record StorageStats(long totalBytes, long freeBytes, long usedBytes) {}
}
