package io.shoalfs.server.data;

import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage collection of chunk copies: every period, lists the copies on this node (one
 * fan-out directory at a time, at a bounded pace), asks the {@link ReplicaChecker} (the chunk
 * map) which of them it no longer counts, and deletes those: copies of replicas that were
 * dropped (a node that was down while the chunk moved on), of chunks that are gone, and
 * half-healed copies the healer never added.
 *
 * <p>Two guards against deleting a copy that just became useful: copies modified within the
 * grace period are not even asked about (a write or a replication in progress), and a copy
 * is deleted only if it is still exactly as listed (version, length, modification time).
 * Unversioned copies (version 0) are never touched: they come from the single-node path,
 * which keeps no chunk map.
 *
 * <p>Runs on its own thread and waits for the checker there (its futures may complete on a
 * network event loop, which must not do disk work).
 */
public final class OrphanCollector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanCollector.class);
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(60);
  static final int BATCH_SIZE = 1000;
  /**
   * How fast a pass lists copies: reading each copy's version and length is file system work
   * on the data disk, and a store of a million copies listed at full speed every period would
   * keep a core and the disk busy; at this pace a million take about 17 minutes.
   */
  static final int DEFAULT_CHUNKS_PER_SECOND = 1000;
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  private final ChunkStore store;
  private final String memberId;
  private final ReplicaChecker checker;
  private final Duration grace;
  private final int batchSize;
  private final int chunksPerSecond;
  private final PeriodicPass passes;

  /**
   * @param memberId this node's member id, as the chunk map names replicas
   * @param period pause between passes
   * @param grace copies modified more recently than this are left alone
   */
  public OrphanCollector(ChunkStore store, String memberId, ReplicaChecker checker,
      Duration period, Duration grace) {
    this(store, memberId, checker, period, grace, BATCH_SIZE, DEFAULT_CHUNKS_PER_SECOND);
  }

  OrphanCollector(ChunkStore store, String memberId, ReplicaChecker checker, Duration period,
      Duration grace, int batchSize, int chunksPerSecond) {
    if (period.isNegative() || period.isZero() || grace.isNegative() || batchSize < 1
        || chunksPerSecond < 1) {
      throw new IllegalArgumentException("period, batch size and pace must be positive, grace"
          + " not negative");
    }
    this.store = store;
    this.memberId = memberId;
    this.checker = checker;
    this.grace = grace;
    this.batchSize = batchSize;
    this.chunksPerSecond = chunksPerSecond;
    this.passes = new PeriodicPass("orphan-collector", period, LOG, "orphan collector pass",
        this::collectAndLog);
  }

  /** Starts collecting: the first pass one period from now, then one period after each. */
  public void start() {
    passes.start();
  }

  /**
   * One pass, on the calling thread.
   *
   * @return the copies deleted
   */
  public List<StoredChunk> collectOnce() throws IOException, InterruptedException {
    long cutoff = System.currentTimeMillis() - grace.toMillis();
    Pace pace = new Pace(chunksPerSecond);
    List<StoredChunk> candidates = new ArrayList<>();
    List<StoredChunk> deleted = new ArrayList<>();
    // One fan-out directory at a time: memory stays that of one batch, whatever the store holds.
    for (Path directory : store.chunkDirectories()) {
      if (passes.isClosed()) {
        return deleted;
      }
      List<StoredChunk> here = store.listChunksIn(directory);
      for (StoredChunk chunk : here) {
        if (chunk.version() != 0 && chunk.lastModifiedMillis() < cutoff) {
          candidates.add(chunk);
        }
      }
      if (candidates.size() >= batchSize) {
        collect(candidates, deleted);
        candidates.clear();
      }
      pace.done(here.size());
    }
    collect(candidates, deleted);
    return deleted;
  }

  /** Asks the checker about {@code candidates}, a batch at a time, and deletes its garbage. */
  private void collect(List<StoredChunk> candidates, List<StoredChunk> deleted)
      throws IOException, InterruptedException {
    for (int from = 0; from < candidates.size() && !passes.isClosed(); from += batchSize) {
      List<StoredChunk> batch = candidates.subList(from,
          Math.min(from + batchSize, candidates.size()));
      Map<ChunkKey, StoredChunk> byKey = new HashMap<>();
      List<ChunkLocation> held = new ArrayList<>(batch.size());
      for (StoredChunk chunk : batch) {
        byKey.put(new ChunkKey(chunk.inode(), chunk.index()), chunk);
        held.add(ChunkLocation.newBuilder()
            .setChunk(ChunkId.newBuilder().setInode(chunk.inode()).setIndex(chunk.index()))
            .setVersion(chunk.version())
            .build());
      }
      for (ChunkLocation garbage : await(checker.garbage(memberId, held))) {
        StoredChunk seen = byKey.get(new ChunkKey(garbage.getChunk().getInode(),
            garbage.getChunk().getIndex()));
        if (seen == null) {
          continue; // not one we asked about: never delete on hearsay
        }
        try {
          if (store.deleteChunkIfUnchanged(seen)) {
            deleted.add(seen);
          }
        } catch (IOException e) {
          LOG.warn("deleting orphan chunk copy {} failed; will retry",
              new ChunkKey(seen.inode(), seen.index()), e);
        }
      }
    }
  }

  /** Stops the schedule and waits for a pass in progress to notice. */
  @Override
  public void close() {
    passes.close();
  }

  private void collectAndLog() throws IOException, InterruptedException {
    List<StoredChunk> deleted = collectOnce();
    if (!deleted.isEmpty()) {
      LOG.info("deleted {} chunk copies the chunk map no longer counts", deleted.size());
    }
  }

  private static <T> T await(CompletableFuture<T> future)
      throws IOException, InterruptedException {
    try {
      return future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IOException("checking replicas failed", e.getCause());
    } catch (TimeoutException e) {
      future.cancel(false);
      throw new IOException("checking replicas timed out after " + CALL_TIMEOUT.toSeconds()
          + " s");
    }
  }
}
