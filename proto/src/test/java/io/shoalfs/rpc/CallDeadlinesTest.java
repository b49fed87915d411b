package io.shoalfs.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CallDeadlinesTest {

  private final EventLoopGroup group = Transports.eventLoopGroup(1, "deadlines-test");

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Test
  void aCallPastItsDeadlineFailsWithinOneSweepOfIt() throws Exception {
    CallDeadlines deadlines = new CallDeadlines(group, "peer:1");
    CompletableFuture<Envelope> call = new CompletableFuture<>();
    long start = System.nanoTime();
    deadlines.watch(call, 200);

    ExecutionException failed =
        assertThrows(ExecutionException.class,
            () -> call.get(5, TimeUnit.SECONDS));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    RpcException e = (RpcException) failed.getCause();
    assertEquals(Status.DEADLINE_EXCEEDED, e.status());
    assertTrue(e.getMessage().contains("peer:1") && e.getMessage().contains("200 ms"),
        e.getMessage());
    assertTrue(tookMs >= 200, "failed before its deadline: " + tookMs + " ms");
    // One sweep period late at most, plus scheduling slack on a busy machine.
    assertTrue(tookMs < 200 + CallDeadlines.SWEEP_PERIOD.toMillis() + 2000, tookMs + " ms");
    Poll.until("the failed call is no longer watched", () -> deadlines.watched() == 0,
        Duration.ofSeconds(5));
  }

  @Test
  void anAnsweredCallIsForgottenAndNeverFailed() throws Exception {
    CallDeadlines deadlines = new CallDeadlines(group, "peer:1");
    CompletableFuture<Envelope> call = new CompletableFuture<>();
    deadlines.watch(call, 100);
    Envelope answer = Envelope.newBuilder().setCallId(7).build();
    call.complete(answer);

    assertEquals(0, deadlines.watched());
    Thread.sleep(100 + 3 * CallDeadlines.SWEEP_PERIOD.toMillis());
    assertFalse(call.isCompletedExceptionally());
    assertEquals(answer, call.get());
  }
}
