package io.shoalfs.server.meta;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.RecallCapabilityOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits out the directory capabilities in a request's way, so that a mount's call is answered
 * CAP_HELD only when the holder kept the capability past a bound. A request answered CAP_HELD
 * makes this server recall the capability from its holder (RecallCapabilityOp, which every
 * member announces to the holder's mount) and ask again, a little later each time, until the
 * answer is another one or the bound has passed since the first CAP_HELD.
 *
 * <p>Asking again is safe: a CAP_HELD answer changed nothing and was not recorded in the reply
 * table, so the same request (client id, sequence number) is applied when the way is free.
 * Waiting costs no thread: the retries are timer tasks and future callbacks.
 *
 * <p>A recall marks every holding of the directory, so all its shared holders hear of it at
 * once. A holder is recalled once for all the requests of this server in its way, and again
 * while it stays in the way, once a second: it may have given the capability back and taken
 * it anew meanwhile (a new record, not recalled), or missed the news.
 *
 * <p>Not waited on: acquire_capability refused by an exclusive holder, whose CAP_HELD is the
 * answer (the mount then does without the capability; shared holders in the way of an
 * exclusive one are recalled and waited for, as for any change), and a journal, whose ops are
 * answered one by one for the mount to sort out.
 */
public final class CapabilityRecaller implements ControlPlaneOrchestrator {

  private static final Logger LOG = LoggerFactory.getLogger(CapabilityRecaller.class);
  /** The first pause before asking again; each pause doubles, up to {@link #LONGEST_PAUSE}. */
  static final Duration FIRST_PAUSE = Duration.ofMillis(2);
  static final Duration LONGEST_PAUSE = Duration.ofMillis(50);
  /** A holder still in the way this long after it was recalled is recalled again. */
  static final Duration RECALL_AGAIN_AFTER = Duration.ofSeconds(1);
  /** Recalls remembered before the ones older than {@link #RECALL_AGAIN_AFTER} are dropped. */
  private static final int RECALLS_REMEMBERED = 1024;

  private final ControlPlaneOrchestrator delegate;
  private final long boundNs;
  private final ScheduledExecutorService timer;
  private final Set<Waiter> waiting = ConcurrentHashMap.newKeySet();
  /** When this server last recalled each capability, for all its waiting requests. */
  private final ConcurrentHashMap<Holding, Long> recalledAtNs = new ConcurrentHashMap<>();

  /**
   * @param bound how long a request waits for the capabilities in its way, from its first
   *     CAP_HELD answer: long enough for a holder that never answers to lose its session
   */
  public CapabilityRecaller(ControlPlaneOrchestrator delegate, Duration bound) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.boundNs = bound.toNanos();
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "capability-recaller");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public void start() throws IOException {
    delegate.start();
  }

  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    CompletableFuture<MetaResponse> answer = delegate.submit(request);
    boolean acquiring = request.getOpCase() == MetaRequest.OpCase.ACQUIRE_CAPABILITY;
    return answer.thenCompose(first -> first.getStatus() == Status.CAP_HELD
        && (!acquiring || first.getCapShared())
        ? new Waiter(request).answered(first)
        : CompletableFuture.completedFuture(first));
  }

  /** Requests waiting for a capability now; for tests. */
  int waiting() {
    return waiting.size();
  }

  /** A session in the way on a directory. */
  private record Holding(long holder, long dir) {}

  /**
   * One request waiting. Its steps run one after another (each starts when the previous one's
   * future completes), never two at once, so its fields need no lock.
   */
  private final class Waiter {
    private final MetaRequest request;
    private final long deadlineNs = System.nanoTime() + boundNs;
    private final CompletableFuture<MetaResponse> result = new CompletableFuture<>();
    private long pauseNs = FIRST_PAUSE.toNanos();

    Waiter(MetaRequest request) {
      this.request = request;
      waiting.add(this);
    }

    /** Takes an answer to the request: the end of the wait, or a reason to go on. */
    CompletableFuture<MetaResponse> answered(MetaResponse answer) {
      if (answer.getStatus() != Status.CAP_HELD || System.nanoTime() - deadlineNs >= 0) {
        waiting.remove(this);
        result.complete(answer);
      } else {
        recallIfDue(answer).whenComplete((ignored, failure) -> askAgainLater());
      }
      return result;
    }

    private CompletableFuture<Void> recallIfDue(MetaResponse heldAnswer) {
      Holding holding = new Holding(heldAnswer.getCapHolder(), heldAnswer.getCapDir());
      long now = System.nanoTime();
      boolean[] due = {false};
      recalledAtNs.compute(holding, (h, last) -> {
        if (last != null && now - last < RECALL_AGAIN_AFTER.toNanos()) {
          return last;
        }
        due[0] = true;
        return now;
      });
      if (!due[0]) {
        return CompletableFuture.completedFuture(null);
      }
      if (recalledAtNs.size() > RECALLS_REMEMBERED) {
        recalledAtNs.values().removeIf(at -> now - at >= RECALL_AGAIN_AFTER.toNanos());
      }
      LOG.debug("recalling directory {} from session {}", holding.dir(),
          Long.toHexString(holding.holder()));
      MetaRequest recall = MetaRequest.newBuilder()
          .setRecallCapability(RecallCapabilityOp.newBuilder().setDir(holding.dir()))
          .build();
      CompletableFuture<MetaResponse> sent;
      try {
        sent = delegate.submit(recall);
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      return sent.handle((answer, failure) -> {
        if (failure != null || answer.getStatus() != Status.OK) {
          recalledAtNs.remove(holding, now); // not recalled: the next CAP_HELD tries again
        }
        return null;
      });
    }

    private void askAgainLater() {
      long pause = pauseNs;
      pauseNs = Math.min(pauseNs * 2, LONGEST_PAUSE.toNanos());
      try {
        timer.schedule(this::askAgain, pause, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        abandon();
      }
    }

    private void askAgain() {
      if (result.isDone()) {
        return;
      }
      CompletableFuture<MetaResponse> answer;
      try {
        answer = delegate.submit(request);
      } catch (RuntimeException e) {
        answer = CompletableFuture.failedFuture(e);
      }
      answer.whenComplete((a, failure) -> {
        if (failure != null) {
          fail(failure);
        } else {
          answered(a);
        }
      });
    }

    void abandon() {
      fail(new IOException("control plane closed"));
    }

    // Out of the waiting set before completing: the caller's callbacks may run at once.
    private void fail(Throwable failure) {
      waiting.remove(this);
      result.completeExceptionally(failure);
    }
  }

  @Override
  public Optional<String> leaderId() {
    return delegate.leaderId();
  }

  @Override
  public void close() throws IOException {
    timer.shutdownNow();
    for (Waiter w : waiting) {
      w.abandon();
    }
    delegate.close();
  }
}
