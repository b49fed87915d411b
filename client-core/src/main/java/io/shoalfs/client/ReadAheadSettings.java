package io.shoalfs.client;

/**
 * How far a mount reads ahead of a handle that reads sequentially.
 *
 * @param blockBytes bytes per read-ahead request (clipped at chunk boundaries)
 * @param windowBlocks blocks requested ahead of a sequential reader, per handle
 * @param totalBytes all handles' read-ahead blocks together, the memory bound; a block that
 *     finds no room is not read ahead (the read then asks for just what it needs)
 */
public record ReadAheadSettings(int blockBytes, int windowBlocks, long totalBytes) {
  public ReadAheadSettings {
    if (blockBytes < 0 || windowBlocks < 0 || totalBytes < 0) {
      throw new IllegalArgumentException("read-ahead sizes must not be negative");
    }
  }

  /** 1 MiB blocks, 8 ahead per handle, 64 MiB in all. */
  public static ReadAheadSettings defaults() {
    return new ReadAheadSettings(1 << 20, 8, 64L << 20);
  }

  public static ReadAheadSettings off() {
    return new ReadAheadSettings(0, 0, 0);
  }

  boolean enabled() {
    return blockBytes > 0 && windowBlocks > 0 && totalBytes >= blockBytes;
  }

  /** How many blocks fit in the total. */
  int blocks() {
    return blockBytes == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, totalBytes / blockBytes);
  }
}
