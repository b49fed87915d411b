package io.shoalfs.s3;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's HTTP listener: Netty's HTTP codec, without aggregation (bodies stream), and
 * connections that read only when their request's worker asks (see {@link RequestBody}).
 * Requests run on a pool of worker threads, since each blocks on cluster calls.
 */
final class S3Server implements AutoCloseable {
  /** Presigned URLs carry the whole signature in the request line. */
  private static final int MAX_INITIAL_LINE = 16 << 10;
  private static final int MAX_HEADERS = 32 << 10;
  private static final int MAX_CONTENT_PIECE = 64 << 10;

  private final EventLoopGroup boss = new NioEventLoopGroup(1);
  private final EventLoopGroup io = new NioEventLoopGroup(2);
  private final ExecutorService workers;
  private Channel listener;

  S3Server(int workerThreads) {
    AtomicInteger n = new AtomicInteger();
    this.workers = new ThreadPoolExecutor(workerThreads, workerThreads, 60, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "s3-worker-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  ExecutorService workers() {
    return workers;
  }

  /** Starts listening; returns the bound address (port 0 picks a free one). */
  InetSocketAddress start(String host, int port, S3Router router) throws InterruptedException {
    listener = new ServerBootstrap()
        .group(boss, io)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADERS,
                MAX_CONTENT_PIECE));
            ch.pipeline().addLast(new S3HttpHandler(router, workers));
          }
        })
        .bind(host, port).sync().channel();
    return (InetSocketAddress) listener.localAddress();
  }

  @Override
  public void close() {
    if (listener != null) {
      listener.close().syncUninterruptibly();
    }
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    io.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownNow();
  }
}
