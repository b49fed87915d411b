package io.shoalfs.rpc;

import io.shoalfs.proto.Envelope;
import java.util.concurrent.CompletableFuture;

/** What a {@link RpcServer} does with each request it receives. */
@FunctionalInterface
public interface EnvelopeHandler {
  /**
   * Answers one request. Called on the server's handler executor, or on the event loop that
   * read the request when {@link #answersOnEventLoop} says so.
   *
   * @param request an Envelope whose body is one of the {@code *_request} cases
   * @return the response: body a {@code *_response} case, envelope status OK (call-level
   *     outcomes go in the body's own status). The server fills in call_id. A future that
   *     fails becomes an INTERNAL reply, or the status of an {@link RpcException}.
   */
  CompletableFuture<Envelope> handle(Envelope request);

  /**
   * Whether {@code request} is handed to {@link #handle} on the event loop that read it
   * instead of on the handler executor. Only for requests whose handle() never blocks: it
   * returns a future at once and does its work on threads of its own. Saves the hand-off to
   * the handler executor (a thread wake-up per request, paid again on every hop of a chain).
   */
  default boolean answersOnEventLoop(Envelope request) {
    return false;
  }
}
