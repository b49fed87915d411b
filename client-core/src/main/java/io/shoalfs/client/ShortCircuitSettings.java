package io.shoalfs.client;

/**
 * Short-circuit local reads of a mount ({@link ShortCircuitReads}).
 *
 * @param enabled read a chunk from a current copy on this host through its descriptors when a
 *     server here offers it; false: every read goes over the network
 * @param blockSize bytes per checksummed block: the cluster's, read from etcd at mount
 */
public record ShortCircuitSettings(boolean enabled, int blockSize) {
  public static final int DEFAULT_BLOCK_SIZE = 64 << 10;

  public ShortCircuitSettings {
    if (blockSize <= 0) {
      throw new IllegalArgumentException("block size must be positive: " + blockSize);
    }
  }

  /** On, with the servers' default block size (a mount sets the cluster's). */
  public static ShortCircuitSettings defaults() {
    return new ShortCircuitSettings(true, DEFAULT_BLOCK_SIZE);
  }
}
