package io.shoalfs.server.data;

import io.shoalfs.proto.GarbageInode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage collection of chunks: every period, pages through the {@link GarbageSource}'s
 * records of files that left the namespace, deletes the chunks of those this member holds,
 * and purges its name from them. A record is forgotten (with the file's chunk map) only when
 * its last holder has purged, so every holder sees it in the list and deletes its own copies
 * within one period: none is left to the orphan collector, whose passes are minutes apart.
 *
 * <p>A holder that will never come back to purge (the source says it is gone: dead past the
 * grace period, or never seen since the cluster restarted) is purged by the node the source
 * designates, the metadata leader, without deleting anything here. If it returns after all,
 * its copies are no longer in the chunk map, and its orphan collector deletes them.
 *
 * <p>All work runs on the reaper's own thread: the futures the source returns may complete
 * on a network event loop, which must not do disk work, so the reaper waits for them rather
 * than chaining the deletes onto them.
 */
public final class ChunkReaper implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkReaper.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  private final GarbageSource source;
  private final ChunkStore store;
  private final String memberId;
  private final int batchSize;
  private final PeriodicPass passes;

  /**
   * @param memberId this node's member id, as garbage records name holders
   * @param batchSize garbage records asked for per call
   */
  public ChunkReaper(GarbageSource source, ChunkStore store, String memberId, Duration period,
      int batchSize) {
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period must be positive: " + period);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be positive: " + batchSize);
    }
    this.source = source;
    this.store = store;
    this.memberId = memberId;
    this.batchSize = batchSize;
    this.passes = new PeriodicPass("chunk-reaper", period, LOG, "chunk reaper pass",
        this::reapAndLog);
  }

  /** Starts reaping: the first pass one period from now, then one period after each pass. */
  public void start() {
    passes.start();
  }

  /**
   * One pass, on the calling thread, through every garbage record. An inode whose chunks could
   * not be deleted here is not purged for this member: it comes back next pass.
   *
   * @return the inodes this member purged its name from
   */
  public List<Long> reapOnce() throws IOException, InterruptedException {
    List<Long> purged = new ArrayList<>();
    long start = 0;
    while (!passes.isClosed()) {
      List<GarbageInode> page = await(source.listGarbage(start, batchSize), "listing garbage");
      List<Long> deleted = new ArrayList<>(page.size());
      Map<String, List<Long>> ofGone = new TreeMap<>();
      for (GarbageInode garbage : page) {
        if (garbage.getHoldersCount() == 0 || garbage.getHoldersList().contains(memberId)) {
          deleteHere(garbage.getInode(), deleted);
        }
        for (String holder : garbage.getHoldersList()) {
          if (!holder.equals(memberId) && source.isGone(holder)) {
            ofGone.computeIfAbsent(holder, h -> new ArrayList<>()).add(garbage.getInode());
          }
        }
      }
      if (!deleted.isEmpty()) {
        await(source.purge(memberId, List.copyOf(deleted)), "purging " + deleted.size()
            + " inodes");
        purged.addAll(deleted);
      }
      for (Map.Entry<String, List<Long>> gone : ofGone.entrySet()) {
        await(source.purge(gone.getKey(), gone.getValue()), "purging " + gone.getValue().size()
            + " inodes for gone member " + gone.getKey());
        LOG.info("purged {} deleted files for member {}, which is gone",
            gone.getValue().size(), gone.getKey());
      }
      if (page.size() < batchSize) {
        break;
      }
      start = page.get(page.size() - 1).getInode() + 1;
      if (start == 0) { // the last inode id: nothing follows it
        break;
      }
    }
    return purged;
  }

  /** Stops the schedule and waits for a pass in progress to notice. */
  @Override
  public void close() {
    passes.close();
  }

  private void deleteHere(long inode, List<Long> deleted) {
    try {
      store.deleteFile(inode);
      deleted.add(inode);
    } catch (IOException e) {
      LOG.warn("deleting the chunks of inode {} failed; will retry",
          Long.toUnsignedString(inode), e);
    }
  }

  private void reapAndLog() throws IOException, InterruptedException {
    List<Long> purged = reapOnce();
    if (!purged.isEmpty()) {
      LOG.info("reaped the chunks of {} deleted files", purged.size());
    }
  }

  private static <T> T await(CompletableFuture<T> future, String what)
      throws IOException, InterruptedException {
    try {
      return future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IOException(what + " failed", e.getCause());
    } catch (TimeoutException e) {
      future.cancel(false);
      throw new IOException(what + " timed out after " + CALL_TIMEOUT.toSeconds() + " s");
    }
  }
}
