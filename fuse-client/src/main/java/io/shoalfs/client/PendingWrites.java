package io.shoalfs.client;

import io.shoalfs.rpc.RpcException;
import java.util.concurrent.CompletableFuture;

/**
 * What one handle has written that the servers may not have yet: a buffer of contiguous bytes
 * still filling, and at most one earlier buffer on its way. Used only under its own lock, by
 * {@link WriteBehind}.
 */
final class PendingWrites {
  byte[] buffer;
  long start;
  int length;
  CompletableFuture<Void> inFlight = CompletableFuture.completedFuture(null);
  /** A send that failed: every later call on the handle fails with it (data was lost). */
  RpcException failure;

  /** Whether {@code n} bytes at {@code offset} extend the buffer within {@code limit} bytes. */
  boolean continues(long offset, int n, int limit) {
    return buffer != null && offset == start + length && length + n <= limit;
  }

  boolean isEmpty() {
    return buffer == null && inFlight.isDone() && failure == null;
  }
}
