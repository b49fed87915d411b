package io.shoalfs.s3;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One request and its answer, for the worker thread that handles it: the request, its body,
 * and the calls that write the answer, whole or streamed. A streamed answer waits for each
 * piece to be written before it takes the next, so a slow client holds one piece in memory,
 * not the object.
 */
final class Exchange {
  private final Channel channel;
  private final S3Request request;
  private final RequestBody body;
  private final String requestId;
  private final boolean head;
  private boolean responded;

  Exchange(Channel channel, S3Request request, RequestBody body, String requestId) {
    this.channel = channel;
    this.request = request;
    this.body = body;
    this.requestId = requestId;
    this.head = request.method().equals("HEAD");
  }

  S3Request request() {
    return request;
  }

  RequestBody body() {
    return body;
  }

  String requestId() {
    return requestId;
  }

  boolean responded() {
    return responded;
  }

  /** A new set of answer headers with those every answer carries. */
  HttpHeaders headers() {
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    r.headers().set("x-amz-request-id", requestId);
    r.headers().set(HttpHeaderNames.DATE, S3Time.http(Instant.now()));
    r.headers().set(HttpHeaderNames.SERVER, "ShoalFS");
    return r.headers();
  }

  /** An XML answer. */
  void xml(int status, String document) throws IOException {
    HttpHeaders h = headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, "application/xml");
    full(status, h, document.getBytes(StandardCharsets.UTF_8));
  }

  /** An answer with no body (HEAD's headers, a 204, a 200 of a PUT). */
  void empty(int status, HttpHeaders h) throws IOException {
    full(status, h, new byte[0]);
  }

  /**
   * A whole answer. A HEAD's keeps the Content-Length of what a GET would send, if the caller
   * set one.
   */
  void full(int status, HttpHeaders h, byte[] content) throws IOException {
    responded = true;
    DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(status),
        head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(content));
    r.headers().set(h);
    if (!head || !h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      r.headers().set(HttpHeaderNames.CONTENT_LENGTH, head ? 0 : content.length);
    }
    closeIfBodyUnread(r);
    await(channel.writeAndFlush(r));
  }

  /** Starts a streamed answer of {@code length} bytes: {@link #send} them, then {@link #end}. */
  void start(int status, HttpHeaders h, long length) throws IOException {
    responded = true;
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(status));
    r.headers().set(h);
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
    closeIfBodyUnread(r);
    channel.write(r);
  }

  /** Sends one piece of a streamed answer and waits until it is written. */
  void send(ByteBuf piece) throws IOException {
    await(channel.writeAndFlush(new DefaultHttpContent(piece)));
  }

  void end() throws IOException {
    await(channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
  }

  /**
   * An answer given before the request's body was read (an error, mostly) ends the
   * connection: the client may not even send the body (it waits for 100 Continue), so the
   * connection's next bytes cannot be told apart; it must not send another request on it.
   */
  private void closeIfBodyUnread(HttpResponse r) {
    if (!body.hasEnded()) {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
  }

  private static void await(ChannelFuture f) throws IOException {
    try {
      f.sync();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while writing the answer");
    } catch (Exception e) {
      throw new IOException("the answer could not be written: " + e, e);
    }
  }
}
