package io.shoalfs.s3;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A request's body as a blocking stream for the worker that handles it, fed by the channel's
 * event loop. The channel does not read on its own (auto-read is off): the worker asks for one
 * more socket read only when it has used up what came, so a request holds at most one read's
 * worth of body in memory however large the object, and a slow cluster slows the client down.
 *
 * <p>A request sent with {@code Expect: 100-continue} gets its 100 Continue on the first read:
 * one refused before its body is needed (a bad signature, a missing bucket) is answered
 * without the client sending the body.
 */
final class RequestBody extends BufferReadStream {
  /** Queued after the last content: the body ended. */
  private static final ByteBuf END = Unpooled.EMPTY_BUFFER;
  /** Queued when the connection closed before the body ended. */
  private static final ByteBuf BROKEN = Unpooled.wrappedBuffer(new byte[1]);

  private final Channel channel;
  private final boolean expectContinue;
  private final LinkedBlockingQueue<ByteBuf> queue = new LinkedBlockingQueue<>();
  private ByteBuf current;
  private boolean continued;
  private volatile boolean ended;
  private boolean finished;
  private boolean closed;

  RequestBody(Channel channel, boolean expectContinue) {
    this.channel = channel;
    this.expectContinue = expectContinue;
  }

  // ---- event loop side

  /** Content that arrived (retained by the caller, released here once read or closed). */
  synchronized void offer(ByteBuf content) {
    if (closed) {
      content.release();
    } else {
      queue.add(content);
    }
  }

  void end() {
    ended = true;
    queue.add(END);
  }

  void broken() {
    queue.add(BROKEN);
  }

  /** Whether the whole body has arrived (read or not). */
  boolean hasEnded() {
    return ended;
  }

  // ---- worker side

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (current == null || !current.isReadable()) {
      if (finished) {
        return -1;
      }
      if (current != null) {
        current.release();
        current = null;
      }
      ByteBuf next = queue.poll();
      if (next == null) {
        requestMore();
        try {
          next = queue.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while reading the request body");
        }
      }
      if (next == END) {
        finished = true;
        return -1;
      }
      if (next == BROKEN) {
        finished = true;
        throw new IOException("the connection closed before the request body ended");
      }
      current = next;
    }
    int n = Math.min(len, current.readableBytes());
    current.readBytes(b, off, n);
    return n;
  }

  private void requestMore() {
    if (expectContinue && !continued) {
      continued = true;
      channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.CONTINUE));
    }
    channel.read();
  }

  /** Releases what is queued and not read (the request is over). */
  @Override
  public synchronized void close() {
    closed = true;
    if (current != null) {
      current.release();
      current = null;
    }
    for (ByteBuf b = queue.poll(); b != null; b = queue.poll()) {
      if (b != END && b != BROKEN) {
        b.release();
      }
    }
  }
}
