package io.shoalfs.client;

import io.shoalfs.client.writeback.JournalSettings;
import java.time.Duration;

/**
 * How a mount behaves.
 *
 * @param chunkSize bytes per data chunk: the cluster's, which the mount reads from etcd
 *     ({@code ShoalCli}); no other value reads and writes the right bytes
 * @param callTimeout the longest a FUSE call waits for one answer (the transport has its own)
 * @param pathCacheTtl how long a resolved path is trusted
 * @param pathCacheSize how many resolved paths are kept
 * @param attrCacheTtl how long attributes are trusted without asking (zero: never); another
 *     mount's changes are seen within it, and at once by an open (close-to-open)
 * @param writeBack how much written data a mount gathers before sending it
 * @param readDirPageSize entries asked per ReadDirOp (0 = the server's default)
 * @param mountOptions the libfuse -o options
 * @param readAhead how far sequential readers are read ahead of, and the memory for it
 * @param journal metadata write-back: how long and how much namespace work done under
 *     capabilities waits before it goes to the servers
 * @param shortCircuit whether reads of a chunk with a current copy on this host go through
 *     that copy's file descriptors instead of the network
 */
public record ShoalFuseConfig(
    long chunkSize,
    Duration callTimeout,
    Duration pathCacheTtl,
    long pathCacheSize,
    Duration attrCacheTtl,
    WriteBackSettings writeBack,
    int readDirPageSize,
    MountOptions mountOptions,
    ReadAheadSettings readAhead,
    JournalSettings journal,
    ShortCircuitSettings shortCircuit) {

  public static final long DEFAULT_CHUNK_SIZE = 64L << 20;

  public ShoalFuseConfig {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunkSize must be positive: " + chunkSize);
    }
    if (callTimeout.isNegative() || callTimeout.isZero()) {
      throw new IllegalArgumentException("callTimeout must be positive: " + callTimeout);
    }
    if (attrCacheTtl.isNegative()) {
      throw new IllegalArgumentException("attrCacheTtl must not be negative: " + attrCacheTtl);
    }
    if (readDirPageSize < 0) {
      throw new IllegalArgumentException("readDirPageSize must not be negative");
    }
  }

  /**
   * 64 MiB chunks (the servers' default; a mount sets the cluster's), 60 s per call, paths
   * trusted for 2 s (100 000 of them), attributes for 1 s (as JuiceFS's default attr-cache),
   * default options and write-back and read-ahead sizes.
   */
  public static ShoalFuseConfig defaults() {
    return new ShoalFuseConfig(DEFAULT_CHUNK_SIZE, Duration.ofSeconds(60), Duration.ofSeconds(2),
        100_000, Duration.ofSeconds(1), WriteBackSettings.defaults(), 0, MountOptions.defaults(),
        ReadAheadSettings.defaults(), JournalSettings.defaults(), ShortCircuitSettings.defaults());
  }

  public ShoalFuseConfig withChunkSize(long bytes) {
    return new ShoalFuseConfig(bytes, callTimeout, pathCacheTtl, pathCacheSize, attrCacheTtl,
        writeBack, readDirPageSize, mountOptions, readAhead, journal, shortCircuit);
  }

  public ShoalFuseConfig withCallTimeout(Duration timeout) {
    return new ShoalFuseConfig(chunkSize, timeout, pathCacheTtl, pathCacheSize, attrCacheTtl,
        writeBack, readDirPageSize, mountOptions, readAhead, journal, shortCircuit);
  }

  public ShoalFuseConfig withAttrCacheTtl(Duration ttl) {
    return new ShoalFuseConfig(chunkSize, callTimeout, pathCacheTtl, pathCacheSize, ttl,
        writeBack, readDirPageSize, mountOptions, readAhead, journal, shortCircuit);
  }

  public ShoalFuseConfig withWriteBack(WriteBackSettings settings) {
    return new ShoalFuseConfig(chunkSize, callTimeout, pathCacheTtl, pathCacheSize, attrCacheTtl,
        settings, readDirPageSize, mountOptions, readAhead, journal, shortCircuit);
  }

  public ShoalFuseConfig withMountOptions(MountOptions options) {
    return new ShoalFuseConfig(chunkSize, callTimeout, pathCacheTtl, pathCacheSize,
        attrCacheTtl, writeBack, readDirPageSize, options, readAhead, journal, shortCircuit);
  }

  public ShoalFuseConfig withJournal(JournalSettings settings) {
    return new ShoalFuseConfig(chunkSize, callTimeout, pathCacheTtl, pathCacheSize, attrCacheTtl,
        writeBack, readDirPageSize, mountOptions, readAhead, settings, shortCircuit);
  }

  public ShoalFuseConfig withShortCircuit(ShortCircuitSettings settings) {
    return new ShoalFuseConfig(chunkSize, callTimeout, pathCacheTtl, pathCacheSize, attrCacheTtl,
        writeBack, readDirPageSize, mountOptions, readAhead, journal, settings);
  }

  public ShoalFuseConfig withReadAhead(ReadAheadSettings settings) {
    return new ShoalFuseConfig(chunkSize, callTimeout, pathCacheTtl, pathCacheSize, attrCacheTtl,
        writeBack, readDirPageSize, mountOptions, settings, journal, shortCircuit);
  }
}
