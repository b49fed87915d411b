package io.shoalfs.server.data;

import java.nio.ByteBuffer;

/**
 * One direct buffer per thread that reads chunk blocks. A read into a heap buffer makes the
 * JDK read into a temporary direct buffer and copy it over; reading straight into a direct
 * one, verifying the blocks there and copying out only the bytes asked for saves that copy,
 * and the allocation of a heap buffer as large as the blocks. The I/O threads are a fixed
 * pool, so the buffers are as many as they are, each at most {@link #MAX_BYTES} (or one block,
 * if blocks are larger).
 *
 * <p>A buffer is the thread's until its next {@link #take}: never hand it, or a slice of it,
 * to anyone else.
 */
final class BlockBuffers {
  /** Bytes read (and verified) per system call at most, for reads of many blocks. */
  static final int MAX_BYTES = 1 << 20;

  private static final ThreadLocal<ByteBuffer> BUFFERS = new ThreadLocal<>();

  private BlockBuffers() {}

  /** How many blocks one buffer holds: as many as fit in {@link #MAX_BYTES}, at least one. */
  static int blocksPerBuffer(int blockSize) {
    return Math.max(1, MAX_BYTES / blockSize);
  }

  /** The calling thread's buffer, cleared, with {@code bytes} between position and limit. */
  static ByteBuffer take(int bytes) {
    ByteBuffer buffer = BUFFERS.get();
    if (buffer == null || buffer.capacity() < bytes) {
      buffer = ByteBuffer.allocateDirect(Math.max(bytes, buffer == null ? 0 : buffer.capacity()));
      BUFFERS.set(buffer);
    }
    buffer.clear().limit(bytes);
    return buffer;
  }
}
