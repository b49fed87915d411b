package io.shoalfs.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.CodedOutputStream;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bytes a correct client never sends, over a raw socket: each gets the specified reply and a
 * closed connection, while a well-behaved client on the same server carries on.
 */
class ServerBadInputTest {
  private static final int MAX = 64 * 1024;
  private static final Duration LONG = Duration.ofSeconds(10);

  private ExecutorService handlerPool;
  private RpcServer server;
  private int port;
  private RpcClient goodClient;
  /** A call the good client has in flight throughout; the server holds it until the end. */
  private CompletableFuture<Envelope> heldAnswer;
  private CompletableFuture<Envelope> heldCall;

  @BeforeEach
  void start() throws Exception {
    handlerPool = Executors.newFixedThreadPool(2);
    heldAnswer = new CompletableFuture<>();
    server = new RpcServer("127.0.0.1", 0, MAX, request ->
        Pings.requestPayloadOf(request).equals("hold") ? heldAnswer : Pings.echo(request),
        handlerPool);
    port = server.start();
    goodClient = new RpcClient("127.0.0.1", port, MAX);
    assertGoodClientServed("before");
    heldCall = goodClient.call(Pings.request("hold"), LONG);
  }

  @AfterEach
  void stop() throws Exception {
    // The call that was in flight across the bad input still completes.
    heldAnswer.complete(Pings.response("held"));
    assertEquals("held", Pings.payloadOf(heldCall.get(5, TimeUnit.SECONDS)));
    assertGoodClientServed("after");
    goodClient.close();
    server.close();
    handlerPool.shutdownNow();
  }

  private void assertGoodClientServed(String payload) throws Exception {
    Envelope response = goodClient.call(Pings.request(payload), LONG).get(5, TimeUnit.SECONDS);
    assertEquals(payload, Pings.payloadOf(response));
  }

  private static void assertClosedByServer(RawConnection raw) throws IOException {
    assertEquals(-1, raw.read(), "server should have closed the connection");
  }

  private static void assertRejected(Envelope reply, long callId, Status status) {
    assertEquals(callId, reply.getCallId());
    assertEquals(status, reply.getStatus());
    assertFalse(reply.getError().isEmpty(), "a rejection says why");
    assertEquals(Envelope.BodyCase.BODY_NOT_SET, reply.getBodyCase());
  }

  @Test
  void frameThatIsNotAnEnvelopeGetsBadRequest() throws Exception {
    try (RawConnection raw = new RawConnection(port)) {
      raw.send(RawConnection.frame(new byte[] {0x0F, 0x01, 0x02, 0x03}));
      assertRejected(raw.readFrame(), 0, Status.BAD_REQUEST);
      assertClosedByServer(raw);
    }
  }

  @Test
  void unframedGarbageReadsAsAnOversizedLength() throws Exception {
    try (RawConnection raw = new RawConnection(port)) {
      // "GET " as a length prefix is ~1.2 GB.
      raw.send("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertRejected(raw.readFrame(), 0, Status.FRAME_TOO_LARGE);
      assertClosedByServer(raw);
    }
  }

  @Test
  void oversizedLengthGetsFrameTooLargeWithoutTheBodyBeingSent() throws Exception {
    try (RawConnection raw = new RawConnection(port)) {
      raw.send(ByteBuffer.allocate(4).putInt(MAX + 1).array());
      assertRejected(raw.readFrame(), 0, Status.FRAME_TOO_LARGE);
      assertClosedByServer(raw);
    }
  }

  @Test
  void truncatedFrameThenCloseIsDroppedQuietly() throws Exception {
    try (RawConnection raw = new RawConnection(port)) {
      byte[] frame = RawConnection.frame(Pings.request("x".repeat(100)).toByteArray());
      byte[] truncated = new byte[frame.length / 2];
      System.arraycopy(frame, 0, truncated, 0, truncated.length);
      raw.send(truncated);
      raw.shutdownOutput();
      assertClosedByServer(raw);
    }
  }

  @Test
  void unknownMessageTypeGetsUnknownTypeWithItsCallId() throws Exception {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(body);
    out.writeUInt64(1, 42); // call_id
    out.writeUInt32(99, 7); // a field this server has never heard of
    out.flush();
    try (RawConnection raw = new RawConnection(port)) {
      raw.send(RawConnection.frame(body.toByteArray()));
      assertRejected(raw.readFrame(), 42, Status.UNKNOWN_TYPE);
      assertClosedByServer(raw);
    }
  }

  @Test
  void responseBodySentAsARequestGetsUnknownType() throws Exception {
    try (RawConnection raw = new RawConnection(port)) {
      raw.sendFrame(Pings.response("i am an answer").toBuilder().setCallId(43).build());
      assertRejected(raw.readFrame(), 43, Status.UNKNOWN_TYPE);
      assertClosedByServer(raw);
    }
  }

  @Test
  void goodFramesBeforeTheBadOneAreStillAnswered() throws Exception {
    try (RawConnection raw = new RawConnection(port)) {
      raw.sendFrame(Pings.request("fine").toBuilder().setCallId(5).build());
      Envelope answer = raw.readFrame();
      assertEquals(5, answer.getCallId());
      assertEquals("fine", Pings.payloadOf(answer));
      raw.sendFrame(Pings.response("wrong way").toBuilder().setCallId(6).build());
      assertRejected(raw.readFrame(), 6, Status.UNKNOWN_TYPE);
      assertClosedByServer(raw);
    }
  }
}
