package io.shoalfs.bench;

import io.shoalfs.server.data.ChunkStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A new chunk on a replica: the first versioned 4 KiB write to a chunk that does not exist
 * yet (its files, its version), then its deletion, so that the directory stays small and
 * every invocation creates from nothing. Inodes of one iteration share 256 fan-out
 * directories, as consecutive inodes of a busy mount do.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ChunkCreateBench {
  static final long VERSION = 1;

  private ScratchStore scratch;
  private ChunkStore store;
  private final ByteBuffer payload = ByteBuffer.wrap(new byte[4096]);
  private long inode;

  @Setup(Level.Trial)
  public void open() throws IOException {
    scratch = ScratchStore.create("chunk-create");
    store = scratch.store();
  }

  @TearDown(Level.Trial)
  public void remove() throws IOException {
    scratch.close();
  }

  @Benchmark
  public void createWriteDelete() throws IOException {
    long chunkInode = 1 + (inode++ & 0xff);
    store.write(chunkInode, 0, 0, payload, false, VERSION);
    store.deleteChunk(chunkInode, 0);
  }
}
