package io.shoalfs.rpc;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.PingRequest;
import io.shoalfs.proto.PingResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/** Ping envelopes and the echoing handler the transport tests serve. */
final class Pings {
  private Pings() {}

  static Envelope request(String payload) {
    return Envelope.newBuilder()
        .setPingRequest(PingRequest.newBuilder()
            .setPayload(ByteString.copyFrom(payload, StandardCharsets.UTF_8)))
        .build();
  }

  static Envelope response(String payload) {
    return Envelope.newBuilder()
        .setPingResponse(PingResponse.newBuilder()
            .setPayload(ByteString.copyFrom(payload, StandardCharsets.UTF_8)))
        .build();
  }

  static String payloadOf(Envelope response) {
    return response.getPingResponse().getPayload().toStringUtf8();
  }

  static String requestPayloadOf(Envelope request) {
    return request.getPingRequest().getPayload().toStringUtf8();
  }

  /** Answers a ping_request with a ping_response carrying the same payload. */
  static CompletableFuture<Envelope> echo(Envelope request) {
    return CompletableFuture.completedFuture(Envelope.newBuilder()
        .setPingResponse(PingResponse.newBuilder()
            .setPayload(request.getPingRequest().getPayload()))
        .build());
  }
}
