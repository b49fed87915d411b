package io.shoalfs.server.meta;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;

/**
 * Snapshots as RocksDB checkpoint directories named {@code <term>_<index>} under
 * {@code <sm dir>/snapshots}. The live database sits beside them in {@code <sm dir>/db}, out of
 * the snapshot directory: Ratis replaces the snapshot directory whole when it installs one
 * from the leader.
 */
final class CheckpointSnapshotStorage implements StateMachineStorage {

  private static final Pattern NAME = Pattern.compile("(\\d+)_(\\d+)");

  private Path smDir;
  private Path snapshotDir;
  private Path tmpDir;
  private volatile FileListSnapshotInfo latest;

  @Override
  public void init(RaftStorage raftStorage) throws IOException {
    smDir = raftStorage.getStorageDir().getStateMachineDir().toPath();
    snapshotDir = smDir.resolve("snapshots");
    tmpDir = smDir.resolve("tmp");
    Files.createDirectories(snapshotDir);
    Files.createDirectories(tmpDir);
    refresh();
  }

  Path dbDir() {
    return smDir.resolve("db");
  }

  Path tmpPath(String name) {
    return tmpDir.resolve(name);
  }

  /** Where a finished checkpoint of {@code termIndex} is kept. */
  Path snapshotPath(TermIndex termIndex) {
    return snapshotDir.resolve(termIndex.getTerm() + "_" + termIndex.getIndex());
  }

  /** Re-reads the snapshot directory (after a snapshot is taken or installed). */
  FileListSnapshotInfo refresh() throws IOException {
    Path best = null;
    TermIndex bestTermIndex = null;
    try (Stream<Path> dirs = Files.list(snapshotDir)) {
      for (Path dir : (Iterable<Path>) dirs::iterator) {
        TermIndex ti = parse(dir);
        if (ti != null && Files.isDirectory(dir)
            && (bestTermIndex == null || ti.getIndex() > bestTermIndex.getIndex())) {
          best = dir;
          bestTermIndex = ti;
        }
      }
    }
    latest = best == null ? null : new FileListSnapshotInfo(filesOf(best), bestTermIndex);
    return latest;
  }

  /** The directory of the newest snapshot, or null. */
  Path latestDir() {
    FileListSnapshotInfo info = latest;
    return info == null ? null : snapshotPath(info.getTermIndex());
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    return latest;
  }

  @Override
  public void format() {}

  @Override
  public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
    int keep = Math.max(1, policy.getNumSnapshotsRetained());
    List<Path> dirs = new ArrayList<>();
    try (Stream<Path> list = Files.list(snapshotDir)) {
      list.filter(p -> parse(p) != null).forEach(dirs::add);
    }
    dirs.sort(Comparator.comparingLong((Path p) -> parse(p).getIndex()).reversed());
    for (Path old : dirs.subList(Math.min(keep, dirs.size()), dirs.size())) {
      deleteRecursively(old);
    }
  }

  @Override
  public File getSnapshotDir() {
    return snapshotDir.toFile();
  }

  @Override
  public File getTmpDir() {
    return tmpDir.toFile();
  }

  private static TermIndex parse(Path dir) {
    Matcher m = NAME.matcher(dir.getFileName().toString());
    return m.matches() ? TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))) : null;
  }

  private static List<FileInfo> filesOf(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      // No digest: the leader computes it while streaming the file to a follower.
      return files.filter(Files::isRegularFile).sorted().map(p -> new FileInfo(p, null)).toList();
    }
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
