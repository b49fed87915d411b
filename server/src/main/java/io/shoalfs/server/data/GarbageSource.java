package io.shoalfs.server.data;

import io.shoalfs.proto.GarbageInode;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the reaper learns which files are gone from the namespace and which members still hold
 * copies of their data, and tells it when a holder's copies are gone too. The wiring adapts it
 * to the control plane's list_garbage and purge calls and to the membership, so the data plane
 * never depends on the metadata code.
 */
public interface GarbageSource {

  /**
   * Up to {@code limit} garbage records from inode {@code startInode} on, in inode order, each
   * with the members still holding copies of its chunks.
   */
  CompletableFuture<List<GarbageInode>> listGarbage(long startInode, int limit);

  /** {@code holder} holds no copy of these inodes' chunks any more: it leaves their records. */
  CompletableFuture<Void> purge(String holder, List<Long> inodes);

  /**
   * True if {@code holder} will never delete its copies (dead past the grace period, or never
   * seen) and this node is the one to purge for it; false on every node but one.
   */
  boolean isGone(String holder);
}
