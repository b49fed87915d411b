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

  /** A buffer taken to be sent: its bytes [0, length) belong at {@code start}. */
  record Taken(byte[] data, long start, int length) {}

  /** Takes the filling buffer to send it; what is sent now ends where it ends. */
  Taken takeBuffer() {
    Taken taken = new Taken(buffer, start, length);
    buffer = null;
    length = 0;
    sentEnd = taken.start() + taken.length();
    return taken;
  }

  /** Asked without holding the lock by other handles' writers: takes it. */
  synchronized boolean isEmpty() {
    return buffer == null && inFlight.stream().allMatch(CompletableFuture::isDone) && failure == null;
  }
}
