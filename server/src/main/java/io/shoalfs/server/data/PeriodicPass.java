package io.shoalfs.server.data;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Runs a background pass on its own daemon thread: the first one period after {@link #start()},
 * then one period after each pass ends (fixed delay, so a slow pass never overlaps the next).
 *
 * <p>A pass that fails is logged and the schedule goes on: the failures these passes meet
 * (a control plane without a leader, a leader change mid-pass) are normal and pass.
 */
final class PeriodicPass implements AutoCloseable {
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

  /** One pass of the background task. */
  @FunctionalInterface
  interface Pass {
    void run() throws Exception;
  }

  private final String threadName;
  private final Duration period;
  private final Logger log;
  private final String passName;
  private final Pass pass;
  private final ScheduledExecutorService scheduler;
  private volatile boolean closed;

  /**
   * @param threadName the name of the pass thread
   * @param period pause before the first pass, and between the end of one and the next
   * @param log the owner's logger, which failures are logged to
   * @param passName what failures are logged as ("{passName} failed: ...")
   */
  PeriodicPass(String threadName, Duration period, Logger log, String passName, Pass pass) {
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period must be positive: " + period);
    }
    this.threadName = threadName;
    this.period = period;
    this.log = log;
    this.passName = passName;
    this.pass = pass;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  void start() {
    long millis = period.toMillis();
    scheduler.scheduleWithFixedDelay(this::runQuietly, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** True once {@link #close()} began: a pass in progress should check it and stop early. */
  boolean isClosed() {
    return closed;
  }

  /** Stops the schedule, interrupts a pass in progress and waits (10 s at most) for it. */
  @Override
  public void close() {
    closed = true;
    scheduler.shutdownNow();
    try {
      if (!scheduler.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("{} did not stop within {} s", threadName, STOP_TIMEOUT.toSeconds());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void runQuietly() {
    try {
      pass.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      // Keep the schedule alive: a throw would cancel every later pass.
      log.warn("{} failed: {}", passName, t.toString());
    }
  }
}
