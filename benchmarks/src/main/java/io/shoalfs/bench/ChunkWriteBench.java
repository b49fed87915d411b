package io.shoalfs.bench;

import io.shoalfs.server.data.ChunkStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A replica's write into a chunk, as a data request makes it (versioned, not synced),
 * sequentially over the first 16 MiB of one chunk and round again: a 1 MiB write replaces
 * whole blocks; a 4 KiB write lands inside a block, whose old bytes are read and verified
 * before the block is checksummed again. The page cache absorbs the bytes; what is measured
 * is the store's CPU and system calls.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ChunkWriteBench {
  static final long INODE = 1;
  static final long VERSION = 1;
  static final int REGION_BYTES = 16 << 20;

  @Param({"4096", "1048576"})
  int writeBytes;

  private ScratchStore scratch;
  private ChunkStore store;
  private ByteBuffer payload;
  private long offset;

  @Setup(Level.Trial)
  public void open() throws IOException {
    scratch = ScratchStore.create("chunk-write");
    store = scratch.store();
    byte[] bytes = new byte[writeBytes];
    new SplittableRandom(7).nextBytes(bytes);
    payload = ByteBuffer.wrap(bytes);
    // The whole region exists, so that every 4 KiB write has an old block to verify.
    byte[] zeros = new byte[1 << 20];
    for (int at = 0; at < REGION_BYTES; at += zeros.length) {
      store.write(INODE, 0, at, ByteBuffer.wrap(zeros), false, VERSION);
    }
  }

  @TearDown(Level.Trial)
  public void remove() throws IOException {
    scratch.close();
  }

  @Benchmark
  public void write() throws IOException {
    store.write(INODE, 0, offset, payload, false, VERSION);
    offset = (offset + writeBytes) % REGION_BYTES;
  }
}
