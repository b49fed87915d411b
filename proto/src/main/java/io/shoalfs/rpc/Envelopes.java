package io.shoalfs.rpc;

import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;

/** Small facts about Envelopes that both ends of a connection need. */
final class Envelopes {
  private Envelopes() {}

  /** A transport-level answer: no body, just a status and why. */
  static Envelope error(long callId, Status status, String message) {
    return Envelope.newBuilder()
        .setCallId(callId)
        .setStatus(status)
        .setError(message == null ? "" : message)
        .build();
  }

  /** Whether the body is one a server answers; unset and response bodies are not. */
  static boolean isRequest(Envelope envelope) {
    switch (envelope.getBodyCase()) {
      case META_REQUEST:
      case DATA_REQUEST:
      case PING_REQUEST:
      case CLUSTER_REQUEST:
        return true;
      default:
        return false;
    }
  }
}
