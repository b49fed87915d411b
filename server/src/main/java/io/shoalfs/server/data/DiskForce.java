package io.shoalfs.server.data;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * How a chunk store forces a file or directory to the device: the one place where its
 * durability promises (fsync, O_SYNC writes, durable versions) reach the disk. A seam for tests,
 * which cannot tell a forced page cache from an unforced one by reading the file back.
 */
@FunctionalInterface
interface DiskForce {

  /** fsync(2): data and metadata. */
  DiskForce FSYNC = (channel, file) -> channel.force(true);

  /** Forces {@code channel}, open on {@code file}, to the device. */
  void force(FileChannel channel, Path file) throws IOException;
}
