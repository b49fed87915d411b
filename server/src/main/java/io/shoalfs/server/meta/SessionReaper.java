package io.shoalfs.server.meta;

import io.shoalfs.proto.ExpireSessionsOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the sessions of mounts that went silent ({@link Sessions}), from whichever member leads
 * the metadata group: a background service of the control plane, started and closed with it.
 *
 * <p>Apply cannot read a clock, so expiry is told in log positions. Every {@code period} the
 * leader appends an ExpireSessions entry; its answer stamp is a mark of how far the log had got
 * at that moment by this member's clock. Once a mark is {@code ttl} old, sessions whose last
 * mutation or keep-alive came before it are ended (mounts keep alive well within the TTL). Marks
 * only count while the log moves without a gap: gaining leadership, an entry that failed, or
 * marks further apart than twice the period start the count over, so a quorum outage or a
 * leader change never ends the sessions of mounts that could not reach the group meanwhile
 * (CephFS gives clients a reconnect window after an MDS failover for the same reason).
 */
public final class SessionReaper implements ControlPlaneOrchestrator {

  private static final Logger LOG = LoggerFactory.getLogger(SessionReaper.class);
  /** A mount silent this long (while the log moves) loses its session: as its locks do. */
  public static final long SESSION_TTL_NS = Locks.SESSION_TTL_NS;
  /** Sessions ended per entry: each one deletes up to a reply window of records. */
  static final int ENDED_PER_ENTRY = 8;

  private final ControlPlaneOrchestrator delegate;
  private final BooleanSupplier leading;
  private final Duration period;
  private final Duration ttl;
  private final LongSupplier nanoClock;
  /** This member's applied marks since the log last moved without a gap, oldest first. */
  private final Deque<Mark> marks = new ArrayDeque<>();
  private ScheduledExecutorService timer;

  /**
   * @param leading whether this member leads the metadata group now
   * @param ttl how long a mount may stay silent before its session ends
   */
  public SessionReaper(ControlPlaneOrchestrator delegate, BooleanSupplier leading, Duration period,
      Duration ttl) {
    this(delegate, leading, period, ttl, System::nanoTime);
  }

  SessionReaper(ControlPlaneOrchestrator delegate, BooleanSupplier leading, Duration period,
      Duration ttl, LongSupplier nanoClock) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.leading = leading;
    this.period = period;
    this.ttl = ttl;
    this.nanoClock = nanoClock;
  }

  @Override
  public void start() throws IOException {
    delegate.start();
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "session-reaper");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::tickQuietly, period.toMillis(), period.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void tickQuietly() {
    try {
      tick();
    } catch (RuntimeException e) {
      LOG.warn("session expiry pass failed: {}", e.toString());
    }
  }

  /** One pass: appends a mark, ending the sessions silent since the mark {@code ttl} ago. */
  synchronized void tick() {
    if (!leading.getAsBoolean()) {
      marks.clear();
      return;
    }
    long now = nanoClock.getAsLong();
    if (!marks.isEmpty() && now - marks.peekLast().atNs() > 2 * period.toNanos()) {
      marks.clear(); // the log stood still (or this member did): start counting again
    }
    long seenBefore = 0;
    while (!marks.isEmpty() && now - marks.peekFirst().atNs() >= ttl.toNanos()) {
      seenBefore = marks.pollFirst().stamp();
    }
    MetaRequest expire = MetaRequest.newBuilder().setExpireSessions(ExpireSessionsOp.newBuilder()
        .setSeenBefore(seenBefore).setLimit(ENDED_PER_ENTRY)).build();
    MetaResponse answer;
    try {
      answer = delegate.submit(expire).get(period.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      marks.clear();
      return;
    }
    if (answer.getStatus() != Status.OK || answer.getAppliedIndex() == 0) {
      marks.clear();
      return;
    }
    marks.addLast(new Mark(now, answer.getAppliedIndex()));
  }

  /** How far the log had got ({@code stamp}, an answer's applied index) at {@code atNs}. */
  private record Mark(long atNs, long stamp) {}

  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    return delegate.submit(request);
  }

  @Override
  public Optional<String> leaderId() {
    return delegate.leaderId();
  }

  @Override
  public void close() throws IOException {
    if (timer != null) {
      timer.shutdownNow();
    }
    delegate.close();
  }
}
