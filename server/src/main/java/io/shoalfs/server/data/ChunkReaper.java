package io.shoalfs.server.data;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage collection of chunks: every period, asks the {@link GarbageSource} for inodes that
 * left the namespace, deletes their chunks here, and purges the ones it deleted.
 *
 * <p>Purging after a local delete is right when this node holds the only copy of the data;
 * with replicas, the wiring's GarbageSource must purge only once every holder has deleted.
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
  private final int batchSize;
  private final PeriodicPass passes;

  public ChunkReaper(GarbageSource source, ChunkStore store, Duration period, int batchSize) {
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period must be positive: " + period);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be positive: " + batchSize);
    }
    this.source = source;
    this.store = store;
    this.batchSize = batchSize;
    this.passes = new PeriodicPass("chunk-reaper", period, LOG, "chunk reaper pass",
        this::reapAndLog);
  }

  /** Starts reaping: the first pass one period from now, then one period after each pass. */
  public void start() {
    passes.start();
  }

  /**
   * One pass, on the calling thread: reaps batches until the source has no full batch left.
   * An inode whose chunks could not be deleted is not purged (it comes back next pass), and
   * ends the pass so that a stuck inode cannot spin it.
   *
   * @return the inodes purged
   */
  public List<Long> reapOnce() throws IOException, InterruptedException {
    List<Long> purged = new ArrayList<>();
    while (!passes.isClosed()) {
      List<Long> garbage = await(source.listGarbage(batchSize), "listing garbage");
      List<Long> deleted = new ArrayList<>(garbage.size());
      for (long inode : garbage) {
        try {
          store.deleteFile(inode);
          deleted.add(inode);
        } catch (IOException e) {
          LOG.warn("deleting the chunks of inode {} failed; will retry",
              Long.toUnsignedString(inode), e);
        }
      }
      if (!deleted.isEmpty()) {
        await(source.purge(List.copyOf(deleted)), "purging " + deleted.size() + " inodes");
        purged.addAll(deleted);
      }
      if (garbage.size() < batchSize || deleted.size() < garbage.size()) {
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
