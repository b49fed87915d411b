package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.AcquireCapabilityOp;
import io.shoalfs.proto.JournalOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The recalling decorator against a scripted group: what it recalls, how often it asks again,
 * and when it gives up.
 */
class CapabilityRecallerTest {

  static final MetaRequest LOOKUP = MetaRequest.newBuilder().setClientId(9).setRequestSeq(3)
      .setLookup(LookupOp.newBuilder().setParent(5).setName("x")).build();

  private final Scripted group = new Scripted();
  private CapabilityRecaller recaller;

  @AfterEach
  void close() throws IOException {
    if (recaller != null) {
      recaller.close();
    }
  }

  @Test
  void aRequestInTheWayRecallsOnceAndGoesThroughWhenTheWayIsFree() throws Exception {
    group.answers = ask -> ask <= 5 ? held(1, 5) : ok();
    recaller = new CapabilityRecaller(group, Duration.ofSeconds(30));
    long started = System.nanoTime();
    MetaResponse answer = recaller.submit(LOOKUP).get(10, TimeUnit.SECONDS);
    assertEquals(Status.OK, answer.getStatus());
    assertEquals(List.of(5L), group.recalled, "one recall of the directory");
    assertEquals(6, group.asks.get(), "asked until the answer was another one");
    assertTrue(group.requests.stream().filter(r -> r.hasLookup()).allMatch(LOOKUP::equals),
        "the same request (client id and sequence number) each time");
    // Pauses of 2, 4, 8, 16 and 32 ms: well under a second, however slow the machine.
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(2));
    assertEquals(0, recaller.waiting());
  }

  @Test
  void anotherHolderInTheWayIsRecalledToo() throws Exception {
    List<MetaResponse> script = List.of(held(1, 5), held(1, 5), held(2, 5), held(2, 6), ok());
    group.answers = ask -> script.get(ask - 1);
    recaller = new CapabilityRecaller(group, Duration.ofSeconds(30));
    assertEquals(Status.OK, recaller.submit(LOOKUP).get(10, TimeUnit.SECONDS).getStatus());
    assertEquals(List.of(5L, 5L, 6L), group.recalled);
  }

  @Test
  void pastTheBoundTheCapHeldAnswerComesBack() throws Exception {
    group.answers = ask -> held(1, 5);
    recaller = new CapabilityRecaller(group, Duration.ofMillis(300));
    long started = System.nanoTime();
    MetaResponse answer = recaller.submit(LOOKUP).get(10, TimeUnit.SECONDS);
    assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(300));
    assertEquals(Status.CAP_HELD, answer.getStatus());
    assertEquals(1, answer.getCapHolder());
    assertEquals(List.of(5L), group.recalled);
    int asks = group.asks.get();
    assertTrue(asks > 5 && asks < 30, "backed off to 50 ms between asks: " + asks);
  }

  @Test
  void aHolderStillInTheWayIsRecalledAgainEverySecond() throws Exception {
    group.answers = ask -> held(1, 5);
    recaller = new CapabilityRecaller(group, Duration.ofMillis(2500));
    assertEquals(Status.CAP_HELD, recaller.submit(LOOKUP).get(10, TimeUnit.SECONDS).getStatus());
    assertTrue(group.recalled.size() >= 2 && group.recalled.size() <= 3,
        "recalled at 0, 1 and 2 s: " + group.recalled);
  }

  @Test
  void aFailedRecallIsTriedAgainOnTheNextAnswer() throws Exception {
    group.answers = ask -> ask <= 3 ? held(1, 5) : ok();
    group.recallFailures = 1;
    recaller = new CapabilityRecaller(group, Duration.ofSeconds(30));
    assertEquals(Status.OK, recaller.submit(LOOKUP).get(10, TimeUnit.SECONDS).getStatus());
    assertEquals(List.of(5L, 5L), group.recalled);
  }

  @Test
  void anAcquireAJournalAndOtherAnswersAreNotWaitedOn() throws Exception {
    group.answers = ask -> held(1, 5);
    recaller = new CapabilityRecaller(group, Duration.ofSeconds(30));
    MetaRequest acquire = MetaRequest.newBuilder().setClientId(9).setRequestSeq(4)
        .setAcquireCapability(AcquireCapabilityOp.newBuilder().setDir(5)).build();
    assertEquals(Status.CAP_HELD, recaller.submit(acquire).get(1, TimeUnit.SECONDS).getStatus());
    assertEquals(List.of(), group.recalled, "an acquire refused recalls nothing");

    group.answers = ask -> MetaResponse.newBuilder().setStatus(Status.OK)
        .addBatched(held(1, 5)).build();
    MetaRequest journal = MetaRequest.newBuilder().setClientId(9).setRequestSeq(5)
        .setJournal(JournalOp.newBuilder().addOps(LOOKUP)).build();
    assertEquals(Status.CAP_HELD, recaller.submit(journal).get(1, TimeUnit.SECONDS)
        .getBatched(0).getStatus(), "a journal's ops are the mount's to sort out");

    group.answers = ask -> MetaResponse.newBuilder().setStatus(Status.ENOENT).build();
    assertEquals(Status.ENOENT, recaller.submit(LOOKUP).get(1, TimeUnit.SECONDS).getStatus());
    assertEquals(List.of(), group.recalled);
  }

  @Test
  void aGroupThatFailsWhileARequestWaitsFailsTheRequest() {
    group.answers = ask -> {
      if (ask > 2) {
        throw new IllegalStateException("no quorum");
      }
      return held(1, 5);
    };
    recaller = new CapabilityRecaller(group, Duration.ofSeconds(30));
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> recaller.submit(LOOKUP).get(10, TimeUnit.SECONDS));
    assertInstanceOf(IllegalStateException.class, failed.getCause());
    assertEquals(0, recaller.waiting());
  }

  @Test
  void manyRequestsWaitAtOnceAndClosingEndsTheirWait() throws Exception {
    group.answers = ask -> held(1, 5);
    recaller = new CapabilityRecaller(group, Duration.ofSeconds(30));
    List<CompletableFuture<MetaResponse>> answers = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      answers.add(recaller.submit(LOOKUP));
    }
    assertEquals(200, recaller.waiting());
    assertEquals(List.of(5L), group.recalled, "one recall for every request in the holder's way");
    recaller.close();
    for (CompletableFuture<MetaResponse> answer : answers) {
      ExecutionException closed = assertThrows(ExecutionException.class,
          () -> answer.get(5, TimeUnit.SECONDS));
      assertInstanceOf(IOException.class, closed.getCause());
    }
    assertTrue(group.closed);
    recaller = null;
  }

  private static MetaResponse held(long holder, long dir) {
    return MetaResponse.newBuilder().setStatus(Status.CAP_HELD).setCapHolder(holder)
        .setCapDir(dir).build();
  }

  private static MetaResponse ok() {
    return MetaResponse.newBuilder().setStatus(Status.OK).build();
  }

  /** Answers recalls OK (recording their directory) and everything else from a script. */
  private static final class Scripted implements ControlPlaneOrchestrator {
    volatile IntFunction<MetaResponse> answers;
    volatile int recallFailures;
    volatile boolean closed;
    final AtomicInteger asks = new AtomicInteger();
    final List<Long> recalled = new CopyOnWriteArrayList<>();
    final List<MetaRequest> requests = new CopyOnWriteArrayList<>();

    @Override
    public void start() {}

    @Override
    public CompletableFuture<MetaResponse> submit(MetaRequest request) {
      requests.add(request);
      if (request.hasRecallCapability()) {
        assertEquals(0, request.getClientId(), "a server's request");
        recalled.add(request.getRecallCapability().getDir());
        if (recallFailures > 0) {
          recallFailures--;
          return CompletableFuture.failedFuture(new IOException("lost"));
        }
        return CompletableFuture.completedFuture(ok());
      }
      try {
        return CompletableFuture.completedFuture(answers.apply(asks.incrementAndGet()));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public Optional<String> leaderId() {
      return Optional.of("m1");
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
