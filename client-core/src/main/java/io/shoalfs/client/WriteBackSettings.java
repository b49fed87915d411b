package io.shoalfs.client;

/**
 * How much written data a mount may hold before it reaches the servers.
 *
 * @param bufferBytes one handle's buffer: contiguous writes gather up to this many bytes before
 *     they go down the replica chains in one request per chunk (0: every write goes at once)
 * @param totalBytes all handles' buffers together, the memory bound; a write that finds no
 *     room goes at once
 */
public record WriteBackSettings(int bufferBytes, long totalBytes) {
  public WriteBackSettings {
    if (bufferBytes < 0 || totalBytes < 0) {
      throw new IllegalArgumentException("write-back sizes must not be negative");
    }
  }

  /** 4 MiB per handle, 64 MiB in all. */
  public static WriteBackSettings defaults() {
    return new WriteBackSettings(4 << 20, 64L << 20);
  }

  public static WriteBackSettings off() {
    return new WriteBackSettings(0, 0);
  }

  /** How many buffers fit in the total. */
  int buffers() {
    return bufferBytes == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, totalBytes / bufferBytes);
  }
}
