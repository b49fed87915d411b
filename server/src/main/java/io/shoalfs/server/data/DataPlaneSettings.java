package io.shoalfs.server.data;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a local data plane is set up.
 *
 * @param dataDir where the chunks live
 * @param chunkSize bytes per chunk; must equal the chunk size clients split files by
 * @param blockSize bytes per checksummed block; divides chunkSize
 * @param ioThreads threads doing disk work
 * @param maxQueuedRequests requests waiting for a thread before new ones are refused (EAGAIN)
 * @param reapPeriod pause between garbage-collection passes
 * @param reapBatchSize garbage inodes asked for per call
 */
public record DataPlaneSettings(
    Path dataDir,
    int chunkSize,
    int blockSize,
    int ioThreads,
    int maxQueuedRequests,
    Duration reapPeriod,
    int reapBatchSize) {

  public DataPlaneSettings {
    if (ioThreads < 1 || maxQueuedRequests < 1 || reapBatchSize < 1) {
      throw new IllegalArgumentException("threads, queue and batch size must be positive");
    }
  }

  public static DataPlaneSettings defaults(Path dataDir) {
    return new DataPlaneSettings(dataDir, ChunkStore.DEFAULT_CHUNK_SIZE,
        ChunkStore.DEFAULT_BLOCK_SIZE, 8, 1024, Duration.ofSeconds(30), 256);
  }

  public DataPlaneSettings withSizes(int chunkSize, int blockSize) {
    return new DataPlaneSettings(dataDir, chunkSize, blockSize, ioThreads, maxQueuedRequests,
        reapPeriod, reapBatchSize);
  }

  public DataPlaneSettings withReapPeriod(Duration period) {
    return new DataPlaneSettings(dataDir, chunkSize, blockSize, ioThreads, maxQueuedRequests,
        period, reapBatchSize);
  }
}
