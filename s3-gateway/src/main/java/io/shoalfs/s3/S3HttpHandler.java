package io.shoalfs.s3;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-loop side of one connection: hands each request to a worker (the handlers block
 * on cluster calls, which must never run on an event loop) and feeds its body to the worker's
 * {@link RequestBody}. Requests on a connection are served one after the other: the next one
 * is read only once the previous answer is written.
 */
final class S3HttpHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(S3HttpHandler.class);

  private final S3Router router;
  private final ExecutorService workers;
  private RequestBody body;

  S3HttpHandler(S3Router router, ExecutorService workers) {
    this.router = router;
    this.workers = workers;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest request) {
        startRequest(ctx, request);
      }
      if (msg instanceof HttpContent content && body != null) {
        if (content.content().isReadable()) {
          body.offer(content.content().retain());
        }
        if (content instanceof LastHttpContent) {
          body.end();
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void startRequest(ChannelHandlerContext ctx, HttpRequest request) {
    if (request.decoderResult().isFailure()) {
      LOG.debug("bad HTTP request: {}", request.decoderResult().cause().toString());
      ctx.close();
      return;
    }
    boolean expectContinue = HttpUtil.is100ContinueExpected(request);
    RequestBody current = new RequestBody(ctx.channel(), expectContinue);
    body = current;
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    try {
      workers.execute(() -> {
        boolean reusable;
        try {
          reusable = router.handle(ctx.channel(), request, current);
        } catch (Throwable t) {
          // The router answers every failure it knows; anything else ends the connection
          // rather than leave the client waiting for an answer that will not come.
          LOG.error("{} {} failed", request.method(), request.uri(), t);
          reusable = false;
        }
        current.close();
        // The next request is read only if this one's body was read to its end.
        if (keepAlive && reusable && current.hasEnded()) {
          ctx.channel().read();
        } else {
          ctx.close();
        }
      });
    } catch (RejectedExecutionException e) {
      ctx.close();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (body != null) {
      body.broken();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
