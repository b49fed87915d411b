package io.shoalfs.rpc;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calls in flight on one client connection, by call id, and the handler that completes
 * them as responses arrive.
 *
 * <p>An entry leaves the table however its future completes (answer, timeout, connection
 * loss, caller cancelling), so a call that is never answered does not leak. When the
 * connection goes, every call still waiting fails with UNAVAILABLE.
 */
final class PendingCalls extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(PendingCalls.class);

  /** Envelopes the server sent unasked (a capability recall), not answers to a call. */
  private final Consumer<Envelope> pushes;

  PendingCalls(Consumer<Envelope> pushes) {
    this.pushes = pushes;
  }

  private final ConcurrentHashMap<Long, CompletableFuture<Envelope>> pending =
      new ConcurrentHashMap<>();
  private volatile boolean inactive;

  /** Registers {@code result} under the request's call id and writes the request. */
  void send(Channel channel, Envelope request, CompletableFuture<Envelope> result) {
    long callId = request.getCallId();
    pending.put(callId, result);
    result.whenComplete((response, failure) -> pending.remove(callId, result));
    if (inactive) {
      // channelInactive may have drained the table just before our put.
      result.completeExceptionally(lost(channel));
      return;
    }
    channel.writeAndFlush(request).addListener(f -> {
      if (!f.isSuccess()) {
        result.completeExceptionally(new RpcException(Status.UNAVAILABLE,
            "sending to " + channel.remoteAddress() + " failed: " + f.cause()));
      }
    });
  }

  int size() {
    return pending.size();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Envelope)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    Envelope response = (Envelope) msg;
    if (response.getBodyCase() == Envelope.BodyCase.CAP_RECALL) {
      try {
        pushes.accept(response);
      } catch (RuntimeException e) {
        LOG.warn("a pushed {} was not taken: {}", response.getBodyCase(), e.toString());
      }
      return;
    }
    CompletableFuture<Envelope> call = pending.remove(response.getCallId());
    if (call == null) {
      if (response.getStatus() != Status.OK) {
        LOG.warn("{} answered {} to call {}: {}", ctx.channel().remoteAddress(),
            response.getStatus(), response.getCallId(), response.getError());
      } else {
        LOG.debug("reply to call {} arrived after the caller stopped waiting",
            response.getCallId());
      }
      return;
    }
    if (response.getStatus() == Status.OK) {
      call.complete(response);
    } else {
      call.completeExceptionally(new RpcException(response.getStatus(), response.getError()));
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    inactive = true;
    RpcException failure = lost(ctx.channel());
    for (Long callId : pending.keySet()) {
      CompletableFuture<Envelope> call = pending.remove(callId);
      if (call != null) {
        call.completeExceptionally(failure);
      }
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException) {
      LOG.warn("{} sent a bad frame; closing connection: {}", ctx.channel().remoteAddress(),
          cause.getMessage());
    } else {
      LOG.debug("{}: connection error: {}", ctx.channel().remoteAddress(), cause.toString());
    }
    ctx.close();
  }

  private static RpcException lost(Channel channel) {
    return new RpcException(Status.UNAVAILABLE, "connection to " + channel.remoteAddress()
        + " closed");
  }
}
