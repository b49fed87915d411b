package io.shoalfs.rpc;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The deadlines of one client's calls in flight, enforced by one periodic sweep on the
 * client's event loop instead of a timer per call. A timer per call cost every call two tasks
 * handed to the event loop from the caller's thread (schedule, then cancel once answered), each
 * a wake-up of that loop; calls are answered long before their deadlines (seconds), so a
 * deadline noticed up to one {@link #SWEEP_PERIOD} late costs nothing.
 */
final class CallDeadlines {
  /** How often calls past their deadline are looked for: the slack a timeout may have. */
  static final Duration SWEEP_PERIOD = Duration.ofMillis(50);

  private record Deadline(long atNanos, long timeoutMs) {}

  private final String peer;
  private final ConcurrentHashMap<CompletableFuture<Envelope>, Deadline> calls =
      new ConcurrentHashMap<>();
  private final ScheduledFuture<?> sweep;

  /** Sweeps on {@code group} until it shuts down; {@code peer} names the server in errors. */
  CallDeadlines(EventLoopGroup group, String peer) {
    this.peer = peer;
    long period = SWEEP_PERIOD.toNanos();
    this.sweep = group.scheduleAtFixedRate(this::failExpired, period, period,
        TimeUnit.NANOSECONDS);
  }

  /** {@code call} fails with DEADLINE_EXCEEDED if it is not complete {@code timeoutMs} from now. */
  void watch(CompletableFuture<Envelope> call, long timeoutMs) {
    Deadline deadline = new Deadline(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs),
        timeoutMs);
    calls.put(call, deadline);
    call.whenComplete((response, failure) -> calls.remove(call));
  }

  /** Calls being watched; for tests. */
  int watched() {
    return calls.size();
  }

  /** Stops sweeping (the event loop is shutting down with the client). */
  void stop() {
    sweep.cancel(false);
  }

  private void failExpired() {
    long now = System.nanoTime();
    calls.forEach((call, deadline) -> {
      if (now - deadline.atNanos() >= 0) {
        call.completeExceptionally(new RpcException(Status.DEADLINE_EXCEEDED,
            "no answer from " + peer + " within " + deadline.timeoutMs() + " ms"));
      }
    });
  }
}
