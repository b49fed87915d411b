package io.shoalfs.rpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One multiplexed connection to one server: any number of calls in flight, matched to their
 * answers by call id. Connects on the first call and again on the first call after the
 * connection is lost; it never retries a call by itself (only the caller knows whether a
 * call is safe to repeat). Thread-safe.
 */
public final class RpcClient implements AutoCloseable {
  private static final AttributeKey<PendingCalls> PENDING = AttributeKey.valueOf("shoal.pending");
  private static final int CONNECT_TIMEOUT_MS = 5_000;
  private static final long SHUTDOWN_TIMEOUT_SECONDS = 5;
  /** See {@link Heartbeat}: a peer silent this long while calls wait on it is taken as dead. */
  static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(2);
  static final int HEARTBEATS_MISSED_BEFORE_DEAD = 4;

  private final String host;
  private final int port;
  private final int maxFrameBytes;
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final AtomicLong callIds = new AtomicLong();
  private final CallDeadlines deadlines;

  private final Object lock = new Object();
  private ChannelFuture connection; // guarded by lock
  private boolean closed; // guarded by lock

  public RpcClient(String host, int port, int maxFrameBytes) {
    this(host, port, maxFrameBytes, push -> { });
  }

  /**
   * {@code pushes} gets what the server sends unasked (capability recalls), on the connection's
   * event loop: it must not block.
   */
  public RpcClient(String host, int port, int maxFrameBytes, Consumer<Envelope> pushes) {
    this(host, port, maxFrameBytes, HEARTBEAT_INTERVAL, HEARTBEATS_MISSED_BEFORE_DEAD, pushes);
  }

  RpcClient(String host, int port, int maxFrameBytes, Duration heartbeatInterval,
      int heartbeatsMissedBeforeDead) {
    this(host, port, maxFrameBytes, heartbeatInterval, heartbeatsMissedBeforeDead, push -> { });
  }

  private RpcClient(String host, int port, int maxFrameBytes, Duration heartbeatInterval,
      int heartbeatsMissedBeforeDead, Consumer<Envelope> pushes) {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive: " + maxFrameBytes);
    }
    this.host = Objects.requireNonNull(host, "host");
    this.port = port;
    this.maxFrameBytes = maxFrameBytes;
    this.group = Transports.eventLoopGroup(1, "shoal-rpc-client");
    this.deadlines = new CallDeadlines(group, host + ":" + port);
    this.bootstrap = new Bootstrap()
        .group(group)
        .channel(Transports.clientChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MS)
        .remoteAddress(host, port)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            PendingCalls calls = new PendingCalls(pushes);
            ch.attr(PENDING).set(calls);
            ch.pipeline().addLast("idle", new IdleStateHandler(
                heartbeatInterval.toMillis(), 0, 0, TimeUnit.MILLISECONDS));
            FrameCodec.install(ch.pipeline(), maxFrameBytes);
            ch.pipeline().addLast("heartbeat",
                new Heartbeat(calls::size, heartbeatInterval, heartbeatsMissedBeforeDead));
            ch.pipeline().addLast("pending", calls);
          }
        });
  }

  /**
   * Sends {@code request} (its call_id and deadline_ms are overwritten) and completes with
   * the response whose envelope status is OK. Fails with {@link RpcException}: the
   * envelope's status if not OK; DEADLINE_EXCEEDED after {@code timeout}; UNAVAILABLE if the
   * server cannot be reached or the connection is lost; FRAME_TOO_LARGE if the request
   * exceeds the frame limit.
   */
  public CompletableFuture<Envelope> call(Envelope request, Duration timeout) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(timeout, "timeout");
    CompletableFuture<Envelope> result = new CompletableFuture<>();
    long timeoutMs = clampToDeadline(timeout);
    Envelope envelope = request.toBuilder()
        .setCallId(callIds.incrementAndGet())
        .setDeadlineMs((int) timeoutMs)
        .build();
    int size = envelope.getSerializedSize();
    if (size > maxFrameBytes) {
      result.completeExceptionally(new RpcException(Status.FRAME_TOO_LARGE,
          "request of " + size + " bytes exceeds the frame limit of " + maxFrameBytes));
      return result;
    }
    ChannelFuture connected;
    try {
      connected = connection();
    } catch (RpcException e) {
      result.completeExceptionally(e);
      return result;
    }
    deadlines.watch(result, timeoutMs);
    connected.addListener((ChannelFuture f) -> {
      if (!f.isSuccess()) {
        result.completeExceptionally(new RpcException(Status.UNAVAILABLE,
            "cannot connect to " + host + ":" + port + ": " + f.cause()));
      } else if (!result.isDone()) {
        f.channel().attr(PENDING).get().send(f.channel(), envelope, result);
      }
    });
    if (group.isShuttingDown()) {
      // close() raced with this call: the listener above may never get to run.
      result.completeExceptionally(new RpcException(Status.UNAVAILABLE, "client is closed"));
    }
    return result;
  }

  /** Closes the connection (calls in flight fail with UNAVAILABLE) and stops the event loop. */
  @Override
  public void close() {
    ChannelFuture last;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      last = connection;
    }
    if (last != null) {
      last.channel().close();
    }
    deadlines.stop();
    group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Calls waiting for an answer on the current connection; for tests. */
  int pendingCount() {
    ChannelFuture current;
    synchronized (lock) {
      current = connection;
    }
    if (current == null || !current.isDone()) {
      return 0;
    }
    PendingCalls calls = current.channel().attr(PENDING).get();
    return calls == null ? 0 : calls.size();
  }

  /** The live or in-progress connection, or a new attempt if the last one failed or closed. */
  private ChannelFuture connection() throws RpcException {
    synchronized (lock) {
      if (closed) {
        throw new RpcException(Status.UNAVAILABLE, "client is closed");
      }
      if (connection == null || isDead(connection)) {
        connection = bootstrap.connect();
      }
      return connection;
    }
  }

  private static boolean isDead(ChannelFuture f) {
    return f.isDone() && (!f.isSuccess() || !f.channel().isActive());
  }

  /** deadline_ms is a uint32 on the wire; keep it positive as a Java int too. */
  private static long clampToDeadline(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      return 1;
    }
    if (timeout.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) >= 0) {
      return Integer.MAX_VALUE;
    }
    return Math.max(1, timeout.toMillis());
  }
}
