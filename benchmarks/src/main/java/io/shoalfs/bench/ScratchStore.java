package io.shoalfs.bench;

import io.shoalfs.server.data.ChunkStore;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A chunk store (64 MiB chunks, 64 KiB blocks, as servers run it) in a scratch directory
 * under {@code -Dshoal.bench.dir} (default java.io.tmpdir): the file system under that
 * directory is part of what the chunk benchmarks measure. Closing it deletes the directory.
 */
final class ScratchStore implements Closeable {
  private final Path dir;
  private final ChunkStore store;

  private ScratchStore(Path dir) throws IOException {
    this.dir = dir;
    this.store = new ChunkStore(dir);
  }

  static ScratchStore create(String name) throws IOException {
    Path parent = Path.of(System.getProperty("shoal.bench.dir",
        System.getProperty("java.io.tmpdir")));
    Files.createDirectories(parent);
    return new ScratchStore(Files.createTempDirectory(parent, name + "-"));
  }

  ChunkStore store() {
    return store;
  }

  @Override
  public void close() throws IOException {
    store.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
