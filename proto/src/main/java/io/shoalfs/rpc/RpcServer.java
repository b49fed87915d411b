package io.shoalfs.rpc;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts connections and answers framed {@code Envelope} requests through an
 * {@link EnvelopeHandler}. Event loops only decode and encode; the handler runs on the
 * executor given, so it may block (RocksDB, disk, Raft). Which connection each mount's
 * metadata requests came on is kept in {@link ClientConnections}, for what the server pushes.
 */
public final class RpcServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RpcServer.class);
  private static final long SHUTDOWN_TIMEOUT_SECONDS = 5;

  private final String bindHost;
  private final int port;
  private final int maxFrameBytes;
  private final EnvelopeHandler handler;
  private final Executor handlerExecutor;
  private final ClientConnections clients;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  private EventLoopGroup acceptGroup;
  private EventLoopGroup ioGroup;
  private Channel listener;

  public RpcServer(String bindHost, int port, int maxFrameBytes, EnvelopeHandler handler,
      Executor handlerExecutor) {
    this(bindHost, port, maxFrameBytes, handler, handlerExecutor, new ClientConnections());
  }

  /**
   * @param clients told of every client id a metadata request comes with, and its connection:
   *     the way to send that client something unasked
   */
  public RpcServer(String bindHost, int port, int maxFrameBytes, EnvelopeHandler handler,
      Executor handlerExecutor, ClientConnections clients) {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive: " + maxFrameBytes);
    }
    this.bindHost = Objects.requireNonNull(bindHost, "bindHost");
    this.port = port;
    this.maxFrameBytes = maxFrameBytes;
    this.handler = Objects.requireNonNull(handler, "handler");
    this.handlerExecutor = Objects.requireNonNull(handlerExecutor, "handlerExecutor");
    this.clients = Objects.requireNonNull(clients, "clients");
  }

  /** Binds and starts accepting. Returns the bound port (the chosen one when port was 0). */
  public synchronized int start() throws InterruptedException {
    if (listener != null) {
      throw new IllegalStateException("already started");
    }
    acceptGroup = Transports.eventLoopGroup(1, "shoal-rpc-accept");
    ioGroup = Transports.eventLoopGroup(0, "shoal-rpc-io");
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(acceptGroup, ioGroup)
        .channel(Transports.serverChannel())
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.add(ch);
            FrameCodec.install(ch.pipeline(), maxFrameBytes);
            ch.pipeline().addLast("dispatch",
                new ServerConnectionHandler(handler, handlerExecutor, maxFrameBytes, clients));
          }
        });
    try {
      listener = bootstrap.bind(bindHost, port).sync().channel();
    } catch (InterruptedException | RuntimeException e) {
      shutdownGroups();
      throw e;
    }
    int bound = ((InetSocketAddress) listener.localAddress()).getPort();
    LOG.info("RPC server listening on {}:{} ({})", bindHost, bound,
        Transports.isEpoll() ? "epoll" : "nio");
    return bound;
  }

  /** Stops accepting, closes every connection (their callers see UNAVAILABLE), stops the loops. */
  @Override
  public synchronized void close() {
    if (listener != null) {
      listener.close().awaitUninterruptibly();
      listener = null;
    }
    connections.close().awaitUninterruptibly();
    shutdownGroups();
  }

  /** Connections currently open; for tests. */
  int openConnections() {
    return connections.size();
  }

  private void shutdownGroups() {
    for (EventLoopGroup group : new EventLoopGroup[] {acceptGroup, ioGroup}) {
      if (group != null) {
        group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .awaitUninterruptibly();
      }
    }
    acceptGroup = null;
    ioGroup = null;
  }
}
