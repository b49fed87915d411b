package io.shoalfs.client.writeback;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inode numbers leased to this mount's session, for the nodes it makes locally. A range is
 * asked for ahead of need (when half of it is left), off the caller's thread, so a create
 * rarely waits for one; one that finds none left waits for the lease on its way (bounded), and
 * only when none comes is the create not done locally.
 */
final class InodeLease {
  private static final Logger LOG = LoggerFactory.getLogger(InodeLease.class);

  /** What the servers leased: [start, start + count), and how a new file's chunk is replicated. */
  record Range(long start, int count, int replication, int minReplicas) {}

  /** Asks the servers for a range of {@code count} numbers. */
  @FunctionalInterface
  interface Source {
    Range lease(int count) throws Exception;
  }

  static final int RANGE = 16384;
  /** How long a create waits for a lease on its way before the servers make the node. */
  private static final long WAIT_NS = 2_000_000_000L;

  private final Source source;
  private final Executor executor;
  private final AtomicBoolean asking = new AtomicBoolean();
  private long next;      // guarded by this
  private long end;       // guarded by this
  private long nextStart; // guarded by this; the range after this one (0: none yet)
  private long nextEnd;   // guarded by this
  private volatile int replication;
  private volatile int minReplicas;

  InodeLease(Source source, Executor executor) {
    this.source = source;
    this.executor = executor;
  }

  /** A leased number, or 0 when none is left and none came within the wait. */
  synchronized long take() {
    long deadline = System.nanoTime() + WAIT_NS;
    while (true) {
      if (next == end && nextStart != 0) {
        next = nextStart;
        end = nextEnd;
        nextStart = 0;
      }
      if (end - next <= RANGE / 2 && nextStart == 0) {
        askAhead();
      }
      if (next < end) {
        return next++;
      }
      long left = deadline - System.nanoTime();
      if (!asking.get() || left <= 0) {
        return 0; // the lease failed, or is late: the servers make this one
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 0;
      }
    }
  }

  /** Asks for a range now, ahead of the first create. */
  synchronized void prefetch() {
    if (next == end && nextStart == 0) {
      askAhead();
    }
  }

  int replication() {
    return replication;
  }

  int minReplicas() {
    return minReplicas;
  }

  /** Forgets every number: they belonged to a session that has ended. */
  synchronized void drop() {
    next = end = nextStart = nextEnd = 0;
  }

  private void askAhead() {
    if (!asking.compareAndSet(false, true)) {
      return;
    }
    executor.execute(() -> {
      try {
        Range range = source.lease(RANGE);
        replication = range.replication();
        minReplicas = range.minReplicas();
        synchronized (this) {
          if (next == end) {
            next = range.start();
            end = range.start() + range.count();
          } else {
            nextStart = range.start();
            nextEnd = range.start() + range.count();
          }
        }
      } catch (Exception e) {
        LOG.warn("cannot lease inode numbers (creates go to the servers meanwhile): {}",
            e.toString());
      } finally {
        synchronized (this) {
          asking.set(false);
          notifyAll();
        }
      }
    });
  }
}
