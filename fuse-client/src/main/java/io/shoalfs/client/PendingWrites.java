package io.shoalfs.client;

import io.shoalfs.rpc.RpcException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * What one handle has written that the servers may not have yet: a buffer of contiguous bytes
 * still filling, and the earlier buffers on their way, oldest first (they always cover one
 * contiguous range, ending at {@link #sentEnd}). Used only under its own lock, by
 * {@link WriteBehind}.
 */
final class PendingWrites {
  byte[] buffer;
  long start;
  int length;
  final ArrayDeque<CompletableFuture<Void>> inFlight = new ArrayDeque<>();
  /** Where the last buffer sent ends; -1 when nothing was sent since the last full drain. */
  long sentEnd = -1;
  /** A send that failed: every later call on the handle fails with it (data was lost). */
  RpcException failure;

  /** Whether {@code n} bytes at {@code offset} extend the buffer within {@code limit} bytes. */
  boolean continues(long offset, int n, int limit) {
    return buffer != null && offset == start + length && length + n <= limit;
  }

  /** Asked without holding the lock by other handles' writers: takes it. */
  synchronized boolean isEmpty() {
    return buffer == null && inFlight.stream().allMatch(CompletableFuture::isDone) && failure == null;
  }
}
