package io.shoalfs.client;

import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Write-back for file handles. Contiguous writes through one handle gather in a buffer
 * ({@link WriteBackSettings#bufferBytes()}); a full buffer, or a write that does not continue
 * it, is sent down the replica chains in the background while the next one fills. Up to
 * {@link #MAX_IN_FLIGHT} sends per handle are in flight when each continues the one before
 * (disjoint ranges, so their order does not matter; the chain's stages work on different
 * buffers at once); a send that does not continue them waits until they are all done, so
 * overlapping writes reach the servers in order.
 *
 * <p>What is buffered or in flight is drained (sent, and waited for) before anything that
 * must see it: flush, fsync and release (through {@link WriteCommitter}), a read, truncate or
 * setattr of the inode, and a write through another handle of the same inode (a later write
 * must win over an earlier one still in a buffer). A send that fails fails every later call
 * on its handle, close included, as NFS reports write-back errors; the lost data's end is then
 * never committed.
 *
 * <p>Memory is bounded: buffers come from a budget of {@link WriteBackSettings#totalBytes()};
 * a write that finds none goes straight through.
 */
final class WriteBehind implements AutoCloseable {
  private final ChunkedIo io;
  private final FileHandleTable handles;
  /** A handle's buffer starts this big and doubles as it fills, up to the buffer size. */
  static final int FIRST_BUFFER_BYTES = 128 << 10;
  /** Sends in flight per handle while a sequential writer keeps filling buffers. */
  static final int MAX_IN_FLIGHT = 3;
  private final int bufferBytes;
  private final Semaphore buffers;
  private final ExecutorService senders;

  WriteBehind(ChunkedIo io, FileHandleTable handles, WriteBackSettings settings) {
    this.io = io;
    this.handles = handles;
    this.bufferBytes = settings.bufferBytes();
    this.buffers = new Semaphore(settings.buffers());
    this.senders = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "write-behind");
      t.setDaemon(true);
      return t;
    });
  }

  /** Writes {@code data[0, n)} at {@code offset} through {@code file}: buffered if it can be. */
  void write(OpenFile file, long offset, byte[] data, int n) throws RpcException {
    write(file, offset, (dst, at, len) -> System.arraycopy(data, 0, dst, at, len), n);
  }

  /**
   * Writes the first {@code n} bytes of {@code data} (the kernel's buffer, for the mount) at
   * {@code offset} through {@code file}, copied once: buffered if it can be.
   */
  void write(OpenFile file, long offset, WriteSource data, int n) throws RpcException {
    drainOthers(file);
    PendingWrites p = file.pending();
    synchronized (p) {
      throwIfFailed(p);
      if (p.continues(offset, n, bufferBytes)) {
        ensureRoom(p, p.length + n);
        data.copyTo(p.buffer, p.length, n);
        p.length += n;
        if (p.length == bufferBytes) {
          send(file, p);
        }
        return;
      }
      if (p.buffer != null) {
        send(file, p);
      }
      if (n < bufferBytes && buffers.tryAcquire()) {
        // Grown as it fills: a small file's buffer stays small.
        p.buffer = new byte[Math.min(bufferBytes, Math.max(FIRST_BUFFER_BYTES, n))];
        p.start = offset;
        p.length = n;
        data.copyTo(p.buffer, 0, n);
        return;
      }
      // Too big to gather, or no room: straight through, after what this handle sent before.
      await(p);
      p.sentEnd = -1;
      byte[] bytes = new byte[n];
      data.copyTo(bytes, 0, n);
      io.write(file.inode(), offset, bytes, n, false);
    }
  }

  /** Grows {@code p}'s buffer to hold {@code needed} bytes (at most {@link #bufferBytes}). */
  private void ensureRoom(PendingWrites p, int needed) {
    if (needed > p.buffer.length) {
      int size = (int) Math.min(bufferBytes, Math.max(needed, 2L * p.buffer.length));
      p.buffer = Arrays.copyOf(p.buffer, size);
    }
  }

  /** Sends what {@code file} buffered and waits until the servers have all of it. */
  void drain(OpenFile file) throws RpcException {
    PendingWrites p = file.pending();
    synchronized (p) {
      if (p.buffer != null && p.inFlight.isEmpty()) {
        // Nothing else in flight and the caller waits anyway: sent from this thread. A small
        // file's close would otherwise wake a sender thread for its one write and wait on it.
        sendHere(file, p);
        return;
      }
      if (p.buffer != null) {
        send(file, p);
      }
      await(p);
    }
  }

  /** Drains every handle of {@code inode}: before a read, truncate or setattr sees the file. */
  void drainInode(long inode) throws RpcException {
    for (OpenFile f : handles.openFiles(inode)) {
      drain(f);
    }
  }

  /** Gives back a released handle's buffer if a failure left one (its data is lost). */
  void discard(OpenFile file) {
    PendingWrites p = file.pending();
    synchronized (p) {
      if (p.buffer != null) {
        p.buffer = null;
        buffers.release();
      }
    }
  }

  private void drainOthers(OpenFile file) throws RpcException {
    for (OpenFile other : handles.openFiles(file.inode())) {
      if (other != file && !other.pending().isEmpty()) {
        drain(other);
      }
    }
  }

  /**
   * Starts sending the filled buffer: once fewer than {@link #MAX_IN_FLIGHT} sends are in
   * flight if it continues them, else once they are all done. Caller holds p's lock.
   */
  private void send(OpenFile file, PendingWrites p) throws RpcException {
    awaitUntil(p, p.start == p.sentEnd ? MAX_IN_FLIGHT - 1 : 0);
    PendingWrites.Taken taken = p.takeBuffer();
    p.inFlight.addLast(CompletableFuture.runAsync(() -> {
      try {
        io.write(file.inode(), taken.start(), taken.data(), taken.length(), false);
      } catch (RpcException e) {
        throw new CompletionException(e);
      } finally {
        buffers.release();
      }
    }, senders));
  }

  /** Sends the buffer and waits for it, on this thread; nothing may be in flight. */
  private void sendHere(OpenFile file, PendingWrites p) throws RpcException {
    throwIfFailed(p);
    PendingWrites.Taken taken = p.takeBuffer();
    try {
      io.write(file.inode(), taken.start(), taken.data(), taken.length(), false);
    } catch (RpcException | RuntimeException e) {
      // As a failed background send: this and every later call on the handle fail.
      p.failure = e instanceof RpcException r ? r
          : new RpcException(Status.EIO, "write-behind failed: " + e);
      throwIfFailed(p);
    } finally {
      buffers.release();
    }
  }

  /** Waits for every send in flight; a failure becomes the handle's. Caller holds p's lock. */
  private static void await(PendingWrites p) throws RpcException {
    awaitUntil(p, 0);
  }

  /** Waits, oldest first, until at most {@code left} sends are in flight; fails as above. */
  private static void awaitUntil(PendingWrites p, int left) throws RpcException {
    while (p.inFlight.size() > left
        || (!p.inFlight.isEmpty() && p.inFlight.peekFirst().isDone())) {
      CompletableFuture<Void> oldest = p.inFlight.peekFirst();
      try {
        oldest.get();
      } catch (ExecutionException e) {
        if (p.failure == null) {
          p.failure = e.getCause() instanceof RpcException r ? r
              : new RpcException(Status.EIO, "write-behind failed: " + e.getCause());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RpcException(Status.EIO, "interrupted while waiting for a write");
      }
      p.inFlight.pollFirst();
    }
    throwIfFailed(p);
  }

  private static void throwIfFailed(PendingWrites p) throws RpcException {
    if (p.failure != null) {
      throw new RpcException(p.failure.status(),
          "an earlier write through this handle failed: " + p.failure.getMessage());
    }
  }

  @Override
  public void close() {
    senders.shutdown();
  }
}
