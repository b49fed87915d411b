package io.shoalfs.rpc;

import io.shoalfs.proto.Envelope;
import java.util.concurrent.CompletableFuture;

/** What a {@link RpcServer} does with each request it receives. */
@FunctionalInterface
public interface EnvelopeHandler {
  /**
   * Answers one request. Called on the server's handler executor, never on an event loop.
   *
   * @param request an Envelope whose body is one of the {@code *_request} cases
   * @return the response: body a {@code *_response} case, envelope status OK (call-level
   *     outcomes go in the body's own status). The server fills in call_id. A future that
   *     fails becomes an INTERNAL reply, or the status of an {@link RpcException}.
   */
  CompletableFuture<Envelope> handle(Envelope request);
}
