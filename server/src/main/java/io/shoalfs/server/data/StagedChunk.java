package io.shoalfs.server.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy of a chunk being assembled in the staging area, invisible to readers until
 * {@link #install}ed over the live copy. Closing it without installing throws the staged
 * files away, so a replication that fails halfway never leaves a partial copy behind.
 *
 * <p>Not thread-safe: one replication uses it, one step after the other.
 */
public final class StagedChunk implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(StagedChunk.class);

  private final ChunkStore store;
  private final ChunkKey key;
  private final Path dir;
  private final ChunkLayout layout;
  private final ChecksummedChunk chunk;
  private boolean finished;

  StagedChunk(ChunkStore store, ChunkKey key, Path dir, ChecksummedChunk chunk) {
    this.store = store;
    this.key = key;
    this.dir = dir;
    this.layout = new ChunkLayout(dir);
    this.chunk = chunk;
  }

  /** Writes {@code data} (its remaining bytes) at {@code offset}, checksumming every block. */
  public void write(long offset, ByteBuffer data) throws IOException {
    store.checkRange(key.index(), offset, data.remaining());
    chunk.write(offset, data.duplicate());
  }

  public long length() throws IOException {
    return chunk.length();
  }

  /**
   * Makes the staged copy durable and puts it in place of the live copy, at {@code version}.
   *
   * @throws StaleVersionException if the live copy is newer than {@code version} (it stays)
   */
  public void install(long version) throws IOException {
    if (finished) {
      throw new IllegalStateException("staged chunk " + key + " already finished");
    }
    chunk.force();
    chunk.close();
    try {
      store.install(key, layout.dataFile(key), layout.checksumFile(key), version);
    } finally {
      finished = true;
      deleteDir();
    }
  }

  /** Throws the staged copy away unless it was installed. */
  @Override
  public void close() {
    if (finished) {
      return;
    }
    finished = true;
    try {
      chunk.close();
    } catch (IOException e) {
      LOG.debug("closing staged chunk {}: {}", key, e.toString());
    }
    deleteDir();
  }

  private void deleteDir() {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.warn("could not clean up staging directory {}: {}", dir, e.toString());
    }
  }
}
