package io.shoalfs.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import io.shoalfs.localread.LocalReadRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks this host's server for the descriptors of one chunk copy ({@link LocalReadRequest}):
 * one connection per request, answered with the data and checksum files' descriptors or
 * closed (refused). Descriptors that arrive after the caller gave up are closed here.
 */
final class LocalReadClient implements AutoCloseable {
  private final EpollEventLoopGroup loop = new EpollEventLoopGroup(1, r -> {
    Thread t = new Thread(r, "local-read");
    t.setDaemon(true);
    return t;
  });
  private final Duration timeout;

  LocalReadClient(Duration timeout) {
    this.timeout = timeout;
  }

  /**
   * The data and checksum descriptors of the copy, or empty when the server refused, could not
   * be reached, or did not answer within the timeout.
   */
  Optional<FileDescriptor[]> open(String socket, LocalReadRequest request) {
    CompletableFuture<FileDescriptor[]> answer = new CompletableFuture<>();
        new Bootstrap()
        .group(loop)
        .channel(EpollDomainSocketChannel.class)
        .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
        .handler(new Receiver(answer))
        .connect(new DomainSocketAddress(socket))
        .addListener((ChannelFutureListener) connected -> {
          if (!connected.isSuccess()) {
            answer.complete(null);
            return;
          }
          ByteBuf frame = connected.channel().alloc().buffer(LocalReadRequest.BYTES);
          request.encode(frame);
          connected.channel().writeAndFlush(frame);
        });
    try {
      return Optional.ofNullable(answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (TimeoutException | ExecutionException e) {
      answer.complete(null);
      return Optional.empty();
    } catch (InterruptedException e) {
      answer.complete(null);
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  /** Collects the descriptors of one answer; closes them if nobody takes them. */
  private static final class Receiver extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<FileDescriptor[]> answer;
    private final List<FileDescriptor> received = new ArrayList<>(LocalReadRequest.DESCRIPTORS);

    Receiver(CompletableFuture<FileDescriptor[]> answer) {
      this.answer = answer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof FileDescriptor fd)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      received.add(fd);
      if (received.size() == LocalReadRequest.DESCRIPTORS) {
        FileDescriptor[] fds = received.toArray(new FileDescriptor[0]);
        received.clear();
        if (!answer.complete(fds)) {
          closeAll(List.of(fds)); // the caller gave up meanwhile
        }
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      answer.complete(null); // closed without a whole answer: refused
      closeAll(received);
      received.clear();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static void closeAll(List<FileDescriptor> fds) {
    for (FileDescriptor fd : fds) {
      try {
        fd.close();
      } catch (IOException ignored) {
        // ours, unused: nothing to do about a failed close
      }
    }
  }
}
