package io.shoalfs.rpc;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.PingRequest;
import io.shoalfs.proto.PingResponse;
import java.time.Duration;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a dead peer from a slow one on a client connection while calls are waiting on it.
 *
 * <p>Why: a server whose host or container vanishes sends no RST, so the connection stays
 * "established" and every call on it waits out its whole timeout (30 s for metadata) before
 * the caller can try another server. When nothing has arrived for one {@code interval} and
 * calls are pending, this sends a heartbeat; the server's transport answers heartbeats on its
 * event loop, whatever its handlers are busy with. After {@code missedBeforeDead} silent
 * intervals the connection is closed, which fails the pending calls with UNAVAILABLE, an
 * answer callers fail over on. An idle connection sends nothing.
 *
 * <p>Sits behind an {@link io.netty.handler.timeout.IdleStateHandler} that fires reader-idle
 * events every {@code interval}. Touched only on the channel's event loop.
 */
final class Heartbeat extends ChannelDuplexHandler {
  private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);

  /** Call id of heartbeats; RpcClient numbers calls from 1, so no call ever uses it. */
  static final long CALL_ID = 0;

  private final IntSupplier pendingCalls;
  private final Duration interval;
  private final int missedBeforeDead;
  private int silentIntervals;

  Heartbeat(IntSupplier pendingCalls, Duration interval, int missedBeforeDead) {
    this.pendingCalls = pendingCalls;
    this.interval = interval;
    this.missedBeforeDead = missedBeforeDead;
  }

  static boolean isHeartbeat(Envelope envelope) {
    return envelope.getCallId() == CALL_ID
        && (envelope.hasPingRequest() || envelope.hasPingResponse());
  }

  static Envelope request() {
    return Envelope.newBuilder().setCallId(CALL_ID)
        .setPingRequest(PingRequest.getDefaultInstance()).build();
  }

  /** What the server's transport sends back for a {@link #request()}. */
  static Envelope response() {
    return Envelope.newBuilder().setCallId(CALL_ID)
        .setPingResponse(PingResponse.getDefaultInstance()).build();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    silentIntervals = 0;
    if (msg instanceof Envelope envelope && isHeartbeat(envelope)) {
      return; // it has done its job by arriving
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (!(evt instanceof IdleStateEvent)) {
      super.userEventTriggered(ctx, evt);
      return;
    }
    int waiting = pendingCalls.getAsInt();
    if (waiting == 0) {
      silentIntervals = 0;
      return;
    }
    silentIntervals++;
    if (silentIntervals >= missedBeforeDead) {
      LOG.warn("{} sent nothing for {} ms with {} calls waiting; closing the connection",
          ctx.channel().remoteAddress(), interval.toMillis() * silentIntervals, waiting);
      ctx.close();
      return;
    }
    ctx.writeAndFlush(request());
  }
}
