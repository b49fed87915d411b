package io.shoalfs.rpc;

import io.netty.handler.codec.DecoderException;

/** A complete frame arrived but its bytes are not a protobuf {@code Envelope}. */
final class MalformedEnvelopeException extends DecoderException {
  MalformedEnvelopeException(String message, Throwable cause) {
    super(message, cause);
  }
}
