package io.shoalfs.server.data;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the reaper learns which files are gone from the namespace, and tells it their data
 * is gone too. The wiring adapts it to the control plane's list_garbage and purge calls, so
 * the data plane never depends on the metadata code.
 */
public interface GarbageSource {

  /** Up to {@code limit} inodes whose data may be deleted. */
  CompletableFuture<List<Long>> listGarbage(int limit);

  /** Forget these inodes: their chunks are deleted. */
  CompletableFuture<Void> purge(List<Long> inodes);
}
