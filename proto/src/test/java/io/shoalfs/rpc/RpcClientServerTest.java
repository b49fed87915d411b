package io.shoalfs.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server and client over real loopback sockets. */
class RpcClientServerTest {
  private static final int MAX = 1 << 20;
  private static final Duration LONG = Duration.ofSeconds(30);

  private ExecutorService handlerPool;
  private final Deque<AutoCloseable> toClose = new ArrayDeque<>();

  @BeforeEach
  void createPool() {
    AtomicInteger n = new AtomicInteger();
    handlerPool = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "handler-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @AfterEach
  void closeEverything() throws Exception {
    while (!toClose.isEmpty()) {
      toClose.pop().close();
    }
    handlerPool.shutdownNow();
  }

  private RpcServer server(int port, EnvelopeHandler handler) {
    RpcServer server = new RpcServer("127.0.0.1", port, MAX, handler, handlerPool);
    toClose.push(server);
    return server;
  }

  private RpcClient client(int port) {
    RpcClient client = new RpcClient("127.0.0.1", port, MAX);
    toClose.push(client);
    return client;
  }

  private static RpcException failureOf(CompletableFuture<Envelope> call) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> call.get(10, TimeUnit.SECONDS));
    return assertInstanceOf(RpcException.class, e.getCause());
  }

  private static String ping(RpcClient client, String payload) throws Exception {
    return Pings.payloadOf(client.call(Pings.request(payload), LONG).get(10, TimeUnit.SECONDS));
  }

  @Test
  void manyCallsInFlightOnOneConnectionEachGetItsOwnAnswer() throws Exception {
    int threads = 8;
    int perThread = 125;
    int total = threads * perThread;
    // Hold every answer until all requests have arrived, then answer newest first: the
    // calls are provably in flight together and answers come back out of order.
    Deque<Map.Entry<Envelope, CompletableFuture<Envelope>>> held =
        new java.util.concurrent.ConcurrentLinkedDeque<>();
    AtomicInteger arrived = new AtomicInteger();
    Set<String> handlerThreads = ConcurrentHashMap.newKeySet();
    RpcServer server = server(0, request -> {
      handlerThreads.add(Thread.currentThread().getName());
      CompletableFuture<Envelope> answer = new CompletableFuture<>();
      held.push(Map.entry(request, answer));
      if (arrived.incrementAndGet() == total) {
        for (Map.Entry<Envelope, CompletableFuture<Envelope>> e : held) {
          e.getValue().complete(Pings.echo(e.getKey()).join());
        }
      }
      return answer;
    });
    RpcClient client = client(server.start());

    ExecutorService callers = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<CompletableFuture<Envelope>>>> sent = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        sent.add(callers.submit(() -> {
          List<CompletableFuture<Envelope>> calls = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            calls.add(client.call(Pings.request(thread + "/" + i), LONG));
          }
          return calls;
        }));
      }
      for (int t = 0; t < threads; t++) {
        List<CompletableFuture<Envelope>> calls = sent.get(t).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < perThread; i++) {
          Envelope response = calls.get(i).get(10, TimeUnit.SECONDS);
          assertEquals(t + "/" + i, Pings.payloadOf(response));
          assertEquals(Status.OK, response.getStatus());
        }
      }
    } finally {
      callers.shutdownNow();
    }
    assertEquals(total, arrived.get());
    assertEquals(1, server.openConnections(), "all calls shared one connection");
    assertEquals(0, client.pendingCount());
    assertTrue(handlerThreads.stream().allMatch(n -> n.startsWith("handler-")),
        "handler ran off the handler executor: " + handlerThreads);
  }

  @Test
  void requestsTheHandlerTakesOnTheEventLoopSkipTheHandlerExecutor() throws Exception {
    Map<String, String> threadOf = new ConcurrentHashMap<>();
    RpcServer server = server(0, new EnvelopeHandler() {
      @Override
      public CompletableFuture<Envelope> handle(Envelope request) {
        threadOf.put(Pings.requestPayloadOf(request), Thread.currentThread().getName());
        return Pings.echo(request);
      }

      @Override
      public boolean answersOnEventLoop(Envelope request) {
        return Pings.requestPayloadOf(request).startsWith("loop");
      }
    });
    RpcClient client = client(server.start());

    for (int i = 0; i < 20; i++) {
      assertEquals("loop" + i, ping(client, "loop" + i));
      assertEquals("pool" + i, ping(client, "pool" + i));
    }

    for (int i = 0; i < 20; i++) {
      assertTrue(threadOf.get("pool" + i).startsWith("handler-"), threadOf.toString());
      assertFalse(threadOf.get("loop" + i).startsWith("handler-"), threadOf.toString());
    }
  }

  @Test
  void timeoutFailsWithDeadlineExceededAndRemovesThePendingEntry() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    RpcServer server = server(0, request -> {
      if (Pings.requestPayloadOf(request).equals("never")) {
        arrived.countDown();
        return new CompletableFuture<>();
      }
      return Pings.echo(request);
    });
    RpcClient client = client(server.start());
    assertEquals("warm", ping(client, "warm"));

    Duration timeout = Duration.ofMillis(1500);
    long start = System.nanoTime();
    CompletableFuture<Envelope> call = client.call(Pings.request("never"), timeout);
    assertTrue(arrived.await(timeout.toMillis(), TimeUnit.MILLISECONDS));
    assertEquals(1, client.pendingCount());

    assertEquals(Status.DEADLINE_EXCEEDED, failureOf(call).status());
    assertTrue(System.nanoTime() - start >= timeout.toNanos(), "failed before its timeout");
    Poll.until("pending entry removed", () -> client.pendingCount() == 0, Duration.ofSeconds(5));
    // The connection itself is fine.
    assertEquals("after", ping(client, "after"));
  }

  @Test
  void stoppingTheServerFailsPendingCallsWithUnavailable() throws Exception {
    AtomicInteger arrived = new AtomicInteger();
    RpcServer server = server(0, request -> {
      arrived.incrementAndGet();
      return new CompletableFuture<>();
    });
    RpcClient client = client(server.start());
    List<CompletableFuture<Envelope>> calls = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      calls.add(client.call(Pings.request("stuck " + i), LONG));
    }
    Poll.until("all calls at the server", () -> arrived.get() == 10, Duration.ofSeconds(10));

    server.close();

    for (CompletableFuture<Envelope> call : calls) {
      assertEquals(Status.UNAVAILABLE, failureOf(call).status());
    }
    assertEquals(0, client.pendingCount());
  }

  @Test
  void reconnectsOnTheNextCallAfterTheServerRestarts() throws Exception {
    RpcServer first = server(0, Pings::echo);
    int port = first.start();
    RpcClient client = client(port);
    assertEquals("one", ping(client, "one"));

    first.close();
    assertEquals(Status.UNAVAILABLE,
        failureOf(client.call(Pings.request("nobody home"), LONG)).status());

    RpcServer second = server(port, Pings::echo);
    assertEquals(port, second.start());
    assertEquals("two", ping(client, "two"));
    assertEquals(1, second.openConnections());
  }

  @Test
  void peerThatWentSilentIsDroppedSoWaitingCallsFailOver() throws Exception {
    // A listener that accepts and reads but never writes: what a client sees of a server
    // whose host vanished without a RST (a killed container).
    try (ServerSocket blackHole = new ServerSocket(0)) {
      Thread sink = new Thread(() -> {
        try (var accepted = blackHole.accept(); var in = accepted.getInputStream()) {
          in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException ignored) {
          // the client closing the connection ends the test's server
        }
      }, "black-hole");
      sink.setDaemon(true);
      sink.start();
      RpcClient client = new RpcClient("127.0.0.1", blackHole.getLocalPort(), MAX,
          Duration.ofMillis(200), 3);
      toClose.push(client);

      long start = System.nanoTime();
      CompletableFuture<Envelope> call = client.call(Pings.request("hello?"), LONG);
      assertEquals(Status.UNAVAILABLE, failureOf(call).status());
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(waitedMs >= 500 && waitedMs < 5_000, "dropped after " + waitedMs + " ms");
    }
  }

  @Test
  void slowHandlerIsNotMistakenForADeadPeer() throws Exception {
    // The answer takes ten heartbeat intervals; the server's transport answers the
    // heartbeats meanwhile, so the connection survives and the call gets its answer.
    RpcServer server = server(0, request -> CompletableFuture.supplyAsync(
        () -> Pings.echo(request).join(),
        CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS)));
    RpcClient client = new RpcClient("127.0.0.1", server.start(), MAX, Duration.ofMillis(200), 3);
    toClose.push(client);
    assertEquals("patience",
        Pings.payloadOf(client.call(Pings.request("patience"), LONG).get(10, TimeUnit.SECONDS)));
    assertEquals(1, server.openConnections());
  }

  @Test
  void unreachableServerIsUnavailable() throws Exception {
    int freePort;
    try (ServerSocket probe = new ServerSocket(0)) {
      freePort = probe.getLocalPort();
    }
    RpcClient client = client(freePort);
    assertEquals(Status.UNAVAILABLE,
        failureOf(client.call(Pings.request("anyone?"), LONG)).status());
  }

  @Test
  void handlerFailuresBecomeTypedReplies() throws Exception {
    RpcServer server = server(0, request -> {
      switch (Pings.requestPayloadOf(request)) {
        case "fail":
          return CompletableFuture.failedFuture(new IllegalStateException("disk on fire"));
        case "throw":
          throw new IllegalArgumentException("handler threw");
        case "typed":
          return CompletableFuture.failedFuture(new RpcException(Status.ENOSPC, "full"));
        case "status":
          return CompletableFuture.completedFuture(
              Envelopes.error(0, Status.UNAVAILABLE, "no quorum"));
        default:
          return Pings.echo(request);
      }
    });
    RpcClient client = client(server.start());

    RpcException failed = failureOf(client.call(Pings.request("fail"), LONG));
    assertEquals(Status.INTERNAL, failed.status());
    assertTrue(failed.getMessage().contains("disk on fire"), failed.getMessage());

    RpcException thrown = failureOf(client.call(Pings.request("throw"), LONG));
    assertEquals(Status.INTERNAL, thrown.status());
    assertTrue(thrown.getMessage().contains("handler threw"), thrown.getMessage());

    assertEquals(Status.ENOSPC, failureOf(client.call(Pings.request("typed"), LONG)).status());

    RpcException status = failureOf(client.call(Pings.request("status"), LONG));
    assertEquals(Status.UNAVAILABLE, status.status());
    assertTrue(status.getMessage().contains("no quorum"), status.getMessage());

    assertEquals("still fine", ping(client, "still fine"));
    assertEquals(0, client.pendingCount());
  }

  @Test
  void oversizedRequestFailsOnTheClientWithoutHurtingTheConnection() throws Exception {
    RpcServer server = server(0, Pings::echo);
    RpcClient client = client(server.start());
    assertEquals("before", ping(client, "before"));
    assertEquals(Status.FRAME_TOO_LARGE,
        failureOf(client.call(Pings.request("x".repeat(MAX)), LONG)).status());
    assertEquals("after", ping(client, "after"));
    assertEquals(1, server.openConnections());
  }

  @Test
  void oversizedResponseBecomesFrameTooLarge() throws Exception {
    RpcServer server = server(0, request -> Pings.requestPayloadOf(request).equals("big")
        ? CompletableFuture.completedFuture(Pings.response("y".repeat(MAX)))
        : Pings.echo(request));
    RpcClient client = client(server.start());
    assertEquals(Status.FRAME_TOO_LARGE,
        failureOf(client.call(Pings.request("big"), LONG)).status());
    assertEquals("small", ping(client, "small"));
  }

  @Test
  void closedClientFailsCallsWithUnavailable() throws Exception {
    RpcServer server = server(0, Pings::echo);
    RpcClient client = new RpcClient("127.0.0.1", server.start(), MAX);
    assertEquals("hi", ping(client, "hi"));
    client.close();
    assertEquals(Status.UNAVAILABLE, failureOf(client.call(Pings.request("bye"), LONG)).status());
    Poll.until("server saw the close", () -> server.openConnections() == 0, Duration.ofSeconds(5));
  }

  @Test
  void requestWhoseDeadlinePassedInTheQueueIsNotHandled() throws Exception {
    AtomicInteger handled = new AtomicInteger();
    // An executor that starts every task 300 ms late, as a backed-up queue would.
    java.util.concurrent.ScheduledExecutorService slow =
        Executors.newSingleThreadScheduledExecutor();
    try {
      RpcServer server = new RpcServer("127.0.0.1", 0, MAX, request -> {
        handled.incrementAndGet();
        return Pings.echo(request);
      }, task -> slow.schedule(task, 300, TimeUnit.MILLISECONDS));
      toClose.push(server);
      try (RawConnection raw = new RawConnection(server.start())) {
        raw.sendFrame(Pings.request("late").toBuilder().setCallId(7).setDeadlineMs(50).build());
        Envelope expired = raw.readFrame();
        assertEquals(7, expired.getCallId());
        assertEquals(Status.DEADLINE_EXCEEDED, expired.getStatus());
        assertEquals(0, handled.get(), "handler ran for a caller who had given up");

        raw.sendFrame(Pings.request("patient").toBuilder().setCallId(8).build());
        Envelope answered = raw.readFrame();
        assertEquals(8, answered.getCallId());
        assertEquals(Status.OK, answered.getStatus());
        assertEquals("patient", Pings.payloadOf(answered));
        assertEquals(1, handled.get());
      }
    } finally {
      slow.shutdownNow();
    }
  }

  @Test
  void portInUseFailsStart() throws Exception {
    RpcServer first = server(0, Pings::echo);
    int port = first.start();
    RpcServer second = server(port, Pings::echo);
    // Netty rethrows the bind failure as-is; either way start() must not succeed.
    Exception e = assertThrows(Exception.class, second::start);
    assertTrue(e instanceof IOException || e.getCause() instanceof IOException
        || e.getMessage().contains("in use"), e.toString());
  }
}
