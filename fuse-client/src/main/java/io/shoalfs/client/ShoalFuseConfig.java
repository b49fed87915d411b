package io.shoalfs.client;

import java.time.Duration;

/**
 * How a mount behaves.
 *
 * @param chunkSize bytes per data chunk; must match the cluster's chunk size
 * @param callTimeout the longest a FUSE call waits for one answer (the transport has its own)
 * @param pathCacheTtl how long a resolved path is trusted
 * @param pathCacheSize how many resolved paths are kept
 * @param readDirPageSize entries asked per ReadDirOp (0 = the server's default)
 * @param mountOptions the libfuse -o options
 */
public record ShoalFuseConfig(
    long chunkSize,
    Duration callTimeout,
    Duration pathCacheTtl,
    long pathCacheSize,
    int readDirPageSize,
    MountOptions mountOptions) {

  public static final long DEFAULT_CHUNK_SIZE = 64L << 20;

  public ShoalFuseConfig {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunkSize must be positive: " + chunkSize);
    }
    if (callTimeout.isNegative() || callTimeout.isZero()) {
      throw new IllegalArgumentException("callTimeout must be positive: " + callTimeout);
    }
    if (readDirPageSize < 0) {
      throw new IllegalArgumentException("readDirPageSize must not be negative");
    }
  }

  /** 64 MiB chunks, 60 s per call, paths trusted for 2 s (100 000 of them), default options. */
  public static ShoalFuseConfig defaults() {
    return new ShoalFuseConfig(DEFAULT_CHUNK_SIZE, Duration.ofSeconds(60), Duration.ofSeconds(2),
        100_000, 0, MountOptions.defaults());
  }

  public ShoalFuseConfig withChunkSize(long bytes) {
    return new ShoalFuseConfig(bytes, callTimeout, pathCacheTtl, pathCacheSize, readDirPageSize,
        mountOptions);
  }

  public ShoalFuseConfig withCallTimeout(Duration timeout) {
    return new ShoalFuseConfig(chunkSize, timeout, pathCacheTtl, pathCacheSize, readDirPageSize,
        mountOptions);
  }

  public ShoalFuseConfig withMountOptions(MountOptions options) {
    return new ShoalFuseConfig(chunkSize, callTimeout, pathCacheTtl, pathCacheSize,
        readDirPageSize, options);
  }
}
