package io.shoalfs.rpc;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ReferenceCountUtil;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server end of one connection: checks each request, hands it to the handler (on the
 * handler executor, or here on the event loop for requests the handler answers without
 * blocking), and writes the answer back when the handler's future completes.
 *
 * <p>Input that breaks the protocol (bad frame, oversized length, a body that is not a
 * request) gets one error reply and then the connection is closed: after such a frame we can
 * no longer trust where the next one starts, and a confused peer is better told and cut off
 * than served wrong answers. Other connections are unaffected.
 */
final class ServerConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ServerConnectionHandler.class);

  private final EnvelopeHandler handler;
  private final Executor handlerExecutor;
  private final int maxFrameBytes;
  private final ClientConnections clients;
  /** Set once a protocol violation has been answered; touched only on the event loop. */
  private boolean rejected;

  ServerConnectionHandler(EnvelopeHandler handler, Executor handlerExecutor, int maxFrameBytes,
      ClientConnections clients) {
    this.handler = handler;
    this.handlerExecutor = handlerExecutor;
    this.maxFrameBytes = maxFrameBytes;
    this.clients = clients;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Envelope)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    Envelope request = (Envelope) msg;
    if (rejected) {
      return;
    }
    if (!Envelopes.isRequest(request)) {
      String what = request.getBodyCase() == Envelope.BodyCase.BODY_NOT_SET
          ? "no body this server knows (unknown fields: "
              + request.getUnknownFields().asMap().keySet() + ")"
          : "a " + request.getBodyCase() + " body, which is not a request";
      reject(ctx, request.getCallId(), Status.UNKNOWN_TYPE, "envelope has " + what);
      return;
    }
    if (Heartbeat.isHeartbeat(request)) {
      // Answered here, not by the handlers: it asks whether this process and connection are
      // alive, which a busy handler executor must not make look false.
      ctx.writeAndFlush(Heartbeat.response());
      return;
    }
    long receivedNanos = System.nanoTime();
    Channel channel = ctx.channel();
    if (request.getBodyCase() == Envelope.BodyCase.META_REQUEST) {
      // The mount's connection, for what the server sends it unasked (ClientConnections).
      clients.seen(request.getMetaRequest().getClientId(), channel);
    }
    if (handler.answersOnEventLoop(request)) {
      dispatch(channel, request, receivedNanos);
      return;
    }
    try {
      handlerExecutor.execute(() -> dispatch(channel, request, receivedNanos));
    } catch (RejectedExecutionException e) {
      reply(channel, Envelopes.error(
          request.getCallId(), Status.UNAVAILABLE, "server is not accepting work"));
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (rejected) {
      return;
    }
    if (cause instanceof TooLongFrameException) {
      reject(ctx, 0, Status.FRAME_TOO_LARGE,
          "frame length prefix exceeds the limit of " + maxFrameBytes + " bytes");
    } else if (cause instanceof DecoderException) {
      String why = cause instanceof MalformedEnvelopeException || cause.getCause() == null
          ? cause.getMessage()
          : cause.getCause().toString();
      reject(ctx, 0, Status.BAD_REQUEST, why);
    } else if (cause instanceof IOException) {
      LOG.debug("{}: connection error: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    } else {
      LOG.warn("{}: unexpected error; closing connection", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }

  private void reject(ChannelHandlerContext ctx, long callId, Status status, String message) {
    rejected = true;
    ctx.channel().config().setAutoRead(false);
    LOG.warn("{}: {} ({}); closing connection", ctx.channel().remoteAddress(), status, message);
    ctx.writeAndFlush(Envelopes.error(callId, status, message))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /** Runs on the handler executor, or on the event loop for requests the handler says may. */
  private void dispatch(Channel channel, Envelope request, long receivedNanos) {
    long callId = request.getCallId();
    int deadlineMs = request.getDeadlineMs();
    if (deadlineMs != 0) {
      long waitedNanos = System.nanoTime() - receivedNanos;
      if (waitedNanos >= TimeUnit.MILLISECONDS.toNanos(Integer.toUnsignedLong(deadlineMs))) {
        // The caller has given up; doing the work would only be for nobody.
        reply(channel, Envelopes.error(callId, Status.DEADLINE_EXCEEDED,
            "deadline of " + Integer.toUnsignedLong(deadlineMs) + " ms passed after "
                + TimeUnit.NANOSECONDS.toMillis(waitedNanos) + " ms in the queue"));
        return;
      }
    }
    CompletableFuture<Envelope> answer;
    try {
      answer = handler.handle(request);
      if (answer == null) {
        answer = CompletableFuture.failedFuture(
            new IllegalStateException("handler returned no future"));
      }
    } catch (RuntimeException | Error e) {
      answer = CompletableFuture.failedFuture(e);
    }
    answer.whenComplete((response, failure) -> reply(channel, responseFor(callId, response, failure)));
  }

  private Envelope responseFor(long callId, Envelope response, Throwable failure) {
    if (failure != null) {
      Throwable cause = unwrap(failure);
      if (cause instanceof RpcException) {
        return Envelopes.error(callId, ((RpcException) cause).status(), cause.getMessage());
      }
      LOG.warn("handler failed call {}", callId, cause);
      String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
      return Envelopes.error(callId, Status.INTERNAL, message);
    }
    if (response == null) {
      return Envelopes.error(callId, Status.INTERNAL, "handler answered null");
    }
    Envelope withId = response.toBuilder().setCallId(callId).build();
    int size = withId.getSerializedSize();
    if (size > maxFrameBytes) {
      // The peer would reject the frame and drop the connection with everyone's calls on it.
      return Envelopes.error(callId, Status.FRAME_TOO_LARGE,
          "response of " + size + " bytes exceeds the frame limit of " + maxFrameBytes);
    }
    return withId;
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static void reply(Channel channel, Envelope response) {
    if (channel.eventLoop().isShuttingDown()) {
      // The server is closing; the connection is gone or about to be, with no one to tell.
      LOG.debug("{}: reply to call {} dropped: server shutting down",
          channel.remoteAddress(), response.getCallId());
      return;
    }
    // Listener first, write second: adding a listener to an already-completed promise from
    // this (non event loop) thread would try to notify on a loop that may have terminated.
    ChannelPromise sent = channel.newPromise();
    sent.addListener(f -> {
      if (!f.isSuccess()) {
        LOG.debug("{}: reply to call {} not sent: {}",
            channel.remoteAddress(), response.getCallId(), String.valueOf(f.cause()));
      }
    });
    channel.writeAndFlush(response, sent);
  }
}
