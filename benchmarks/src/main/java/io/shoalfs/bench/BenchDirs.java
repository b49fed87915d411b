package io.shoalfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Scratch directories of the chunk benchmarks, under {@code -Dshoal.bench.dir} (default
 * java.io.tmpdir): the file system under that directory is part of what they measure.
 */
final class BenchDirs {
  private BenchDirs() {}

  static Path create(String name) throws IOException {
    Path parent = Path.of(System.getProperty("shoal.bench.dir",
        System.getProperty("java.io.tmpdir")));
    Files.createDirectories(parent);
    return Files.createTempDirectory(parent, name + "-");
  }

  static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
