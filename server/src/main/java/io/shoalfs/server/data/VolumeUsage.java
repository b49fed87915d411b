package io.shoalfs.server.data;

import io.shoalfs.server.DataPlaneOrchestrator.StorageStats;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;

/** Space on the volume holding the chunks, and how much of it the chunks use. */
final class VolumeUsage {
  private final FileStore volume;
  private final ChunkStore store;

  VolumeUsage(ChunkStore store) throws IOException {
    this.volume = Files.getFileStore(store.dataDir());
    this.store = store;
  }

  StorageStats stats() throws IOException {
    // Usable, not unallocated: the root-reserved blocks are no use to the data plane.
    return new StorageStats(volume.getTotalSpace(), volume.getUsableSpace(), store.usedBytes());
  }
}
