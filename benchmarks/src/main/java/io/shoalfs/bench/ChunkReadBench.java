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
 * A replica's read of one chunk range, as a data request makes it (versioned, every touched
 * block verified), at block-aligned random offsets of a 16 MiB chunk that the page cache
 * holds: what the store costs in CPU and system calls, not what the disk does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ChunkReadBench {
  static final long INODE = 1;
  static final long VERSION = 1;
  static final int FILLED_BYTES = 16 << 20;

  /** 4 KiB: fio's random read; 1 MiB: a sequential reader's request. */
  @Param({"4096", "1048576"})
  int readBytes;

  private ScratchStore scratch;
  private ChunkStore store;

  @Setup(Level.Trial)
  public void fill() throws IOException {
    scratch = ScratchStore.create("chunk-read");
    store = scratch.store();
    byte[] piece = new byte[1 << 20];
    SplittableRandom random = new SplittableRandom(7);
    for (int offset = 0; offset < FILLED_BYTES; offset += piece.length) {
      for (int i = 0; i < piece.length; i++) {
        piece[i] = (byte) random.nextInt();
      }
      store.write(INODE, 0, offset, ByteBuffer.wrap(piece), false, VERSION);
    }
    store.syncFile(INODE);
  }

  @TearDown(Level.Trial)
  public void remove() throws IOException {
    scratch.close();
  }

  /** Each benchmark thread's own sequence of offsets. */
  @State(Scope.Thread)
  public static class Offsets {
    final SplittableRandom random = new SplittableRandom(42);
  }

  @Benchmark
  public ByteBuffer read(Offsets offsets) throws IOException {
    long offset = (long) offsets.random.nextInt(FILLED_BYTES / readBytes) * readBytes;
    return store.read(INODE, 0, offset, readBytes, VERSION);
  }
}
