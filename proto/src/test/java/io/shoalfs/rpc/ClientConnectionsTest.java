package io.shoalfs.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.CapabilityRecall;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Pushes to mounts over the connections their metadata requests came on. */
class ClientConnectionsTest {
  private static final int MAX = 64 * 1024;
  private static final Duration LONG = Duration.ofSeconds(10);

  private final ClientConnections clients = new ClientConnections();
  private ExecutorService handlerPool;
  private RpcServer server;
  private int port;

  @BeforeEach
  void start() throws Exception {
    handlerPool = Executors.newFixedThreadPool(2);
    server = new RpcServer("127.0.0.1", 0, MAX, request -> CompletableFuture.completedFuture(
        request.hasPingRequest() ? Pings.echo(request).join()
            : Envelope.newBuilder().setMetaResponse(MetaResponse.getDefaultInstance()).build()),
        handlerPool, clients);
    port = server.start();
  }

  @AfterEach
  void stop() {
    server.close();
    handlerPool.shutdownNow();
  }

  @Test
  void aPushGoesToTheConnectionTheClientUsedLastUntilItCloses() throws Exception {
    assertFalse(clients.push(42, recall(42, 7)), "nothing known of client 42 yet");
    try (RawConnection first = new RawConnection(port);
        RawConnection second = new RawConnection(port)) {
      first.sendFrame(metaRequest(5, 42));
      assertEquals(5, first.readFrame().getCallId());
      assertTrue(clients.push(42, recall(42, 7).toBuilder().setCallId(99).build()));
      Envelope pushed = first.readFrame();
      assertEquals(0, pushed.getCallId(), "a push never carries a call's id");
      assertEquals(CapabilityRecall.newBuilder().setClientId(42).addDirs(7).build(),
          pushed.getCapRecall());

      second.sendFrame(metaRequest(1, 42));
      assertEquals(1, second.readFrame().getCallId());
      assertTrue(clients.push(42, recall(42, 8)));
      assertEquals(8, second.readFrame().getCapRecall().getDirs(0), "the latest connection");
      first.sendFrame(Pings.request("after").toBuilder().setCallId(6).build());
      assertEquals(6, first.readFrame().getCallId(), "the first one got no second push");

      second.close();
      Poll.until("the closed connection is forgotten", () -> !clients.knows(42), LONG);
      assertFalse(clients.push(42, recall(42, 9)));
    }
  }

  @Test
  void requestsOfTheServersThemselvesAndOtherBodiesRegisterNothing() throws Exception {
    try (RawConnection raw = new RawConnection(port)) {
      raw.sendFrame(metaRequest(1, 0));
      raw.readFrame();
      raw.sendFrame(Pings.request("x").toBuilder().setCallId(2).build());
      raw.readFrame();
      assertFalse(clients.knows(0));
    }
  }

  @Test
  void aClientWithACallInFlightIsNotConfusedByAPush() throws Exception {
    CompletableFuture<Envelope> held = new CompletableFuture<>();
    try (RpcServer holding = new RpcServer("127.0.0.1", 0, MAX,
            request -> request.hasPingRequest() ? held : CompletableFuture.completedFuture(
                Envelope.newBuilder().setMetaResponse(MetaResponse.getDefaultInstance()).build()),
            handlerPool, clients);
        RpcClient client = new RpcClient("127.0.0.1", holding.start(), MAX)) {
      client.call(metaRequest(0, 43), LONG).get(5, TimeUnit.SECONDS);
      CompletableFuture<Envelope> waiting = client.call(Pings.request("wait"), LONG);
      assertTrue(clients.push(43, recall(43, 1)));
      client.call(metaRequest(0, 43), LONG).get(5, TimeUnit.SECONDS);
      assertFalse(waiting.isDone(), "the push answered no call");
      held.complete(Pings.response("done"));
      assertEquals("done", Pings.payloadOf(waiting.get(5, TimeUnit.SECONDS)));
    }
  }

  private static Envelope metaRequest(long callId, long clientId) {
    return Envelope.newBuilder().setCallId(callId)
        .setMetaRequest(MetaRequest.newBuilder().setClientId(clientId)).build();
  }

  private static Envelope recall(long clientId, long dir) {
    return Envelope.newBuilder()
        .setCapRecall(CapabilityRecall.newBuilder().setClientId(clientId).addDirs(dir)).build();
  }
}
