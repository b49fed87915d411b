package io.shoalfs.server.data;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.FixedLengthFrameDecoder;
import io.shoalfs.localread.LocalReadRequest;
import io.shoalfs.server.LocalReadEndpoint;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import jnr.constants.platform.OpenFlags;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Short-circuit local reads, server side: a Unix domain socket on which a mount on this host
 * asks for one chunk copy at the version it expects ({@link LocalReadRequest}) and gets the
 * copy's data and checksum file descriptors, or a closed connection when the copy is not at
 * that version (the check and the opening happen under the chunk's lock,
 * {@link ChunkStore#openIfCurrent}). The mount verifies every block it reads itself.
 *
 * <p>Who may connect: the socket is made readable and writable by this server's user only, like
 * the chunk files it hands out. The token file next to it lets a mount prove it sees this
 * host's filesystem (a mount in another container does not), before it tries.
 */
final class LocalReadService implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalReadService.class);
  private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

  private final ChunkStore store;
  private final Path socket;
  private final Path tokenFile;
  private final EpollEventLoopGroup loop = new EpollEventLoopGroup(1);
  /** Opening files is disk work: off the event loop. */
  private final ExecutorService opener = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "local-read-open");
    t.setDaemon(true);
    return t;
  });
  private Channel server;
  private String token;

  private LocalReadService(ChunkStore store, Path socket) {
    this.store = store;
    this.socket = socket;
    this.tokenFile = Path.of(socket + LocalReadRequest.TOKEN_SUFFIX);
  }

  /**
   * Starts serving on {@code socket} (a stale socket file from an earlier run is replaced);
   * empty, with the reason logged, where this host cannot (no epoll, a path too long for a
   * socket address, ...): mounts then read over the network, as they would from another host.
   */
  static Optional<LocalReadService> start(ChunkStore store, Path socket) {
    if (!Epoll.isAvailable()) {
      LOG.warn("no short-circuit local reads: native epoll unavailable ({})",
          Epoll.unavailabilityCause().toString());
      return Optional.empty();
    }
    LocalReadService service = new LocalReadService(store, socket);
    try {
      service.bind();
      return Optional.of(service);
    } catch (Exception e) {
      LOG.warn("no short-circuit local reads on {}: {}", socket, e.toString());
      service.close();
      return Optional.empty();
    }
  }

  LocalReadEndpoint endpoint() {
    return new LocalReadEndpoint(socket.toString(), token);
  }

  private void bind() throws Exception {
    Files.deleteIfExists(socket);
    Files.deleteIfExists(tokenFile);
    byte[] random = new byte[16];
    new SecureRandom().nextBytes(random);
    token = HexFormat.of().formatHex(random);
    server = new ServerBootstrap()
        .group(loop)
        .channel(EpollServerDomainSocketChannel.class)
        .childHandler(new ChannelInitializer<DomainSocketChannel>() {
          @Override
          protected void initChannel(DomainSocketChannel ch) {
            ch.pipeline().addLast(new FixedLengthFrameDecoder(LocalReadRequest.BYTES),
                new RequestHandler());
          }
        })
        .bind(new DomainSocketAddress(socket.toFile()))
        .sync()
        .channel();
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    // Written after the socket exists: a mount that finds the token finds the socket too.
    Files.writeString(tokenFile, token);
    LOG.info("short-circuit local reads on {}", socket);
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().awaitUninterruptibly();
    }
    opener.shutdownNow();
    loop.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    try {
      Files.deleteIfExists(tokenFile);
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.debug("could not remove {}: {}", socket, e.toString());
    }
  }

  /** One request per connection: answer it, then close. */
  private final class RequestHandler extends SimpleChannelInboundHandler<ByteBuf> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
      LocalReadRequest request = LocalReadRequest.decode(frame);
      try {
        opener.execute(() -> answer(ctx, request));
      } catch (RejectedExecutionException closing) {
        ctx.close();
      }
    }

    private void answer(ChannelHandlerContext ctx, LocalReadRequest request) {
      Optional<FileDescriptor[]> files;
      try {
        files = store.openIfCurrent(request.inode(), request.index(), request.version(),
            (data, checksums) -> open(data, checksums));
      } catch (IOException | RuntimeException e) {
        LOG.debug("short-circuit read of chunk {}/{} refused: {}", request.inode(),
            request.index(), e.toString());
        ctx.close();
        return;
      }
      if (files.isEmpty()) {
        ctx.close(); // not at the asked version, or no copy: the mount uses the network
        return;
      }
      FileDescriptor[] fds = files.get();
      ctx.write(fds[0]);
      // The kernel holds its own reference once sent: ours are closed whatever happened.
      ctx.writeAndFlush(fds[1]).addListener((ChannelFutureListener) done -> {
        closeAll(fds);
        ctx.close();
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("short-circuit connection failed: {}", cause.toString());
      ctx.close();
    }
  }

  private static FileDescriptor[] open(Path data, Path checksums) throws IOException {
    FileDescriptor dataFd = openReadOnly(data);
    try {
      return new FileDescriptor[] {dataFd, openReadOnly(checksums)};
    } catch (IOException e) {
      dataFd.close();
      throw e;
    }
  }

  /**
   * A read-only descriptor of {@code file}: the mount must never be able to change a copy.
   * (Not Netty's {@code FileDescriptor.from}, which opens for writing and truncates.)
   */
  private static FileDescriptor openReadOnly(Path file) throws IOException {
    int fd = POSIX.open(file.toString(), OpenFlags.O_RDONLY.intValue()
        | OpenFlags.O_CLOEXEC.intValue(), 0);
    if (fd < 0) {
      throw new IOException("cannot open " + file + ": errno " + POSIX.errno());
    }
    return new FileDescriptor(fd);
  }

  private static void closeAll(FileDescriptor[] fds) {
    for (FileDescriptor fd : fds) {
      try {
        fd.close();
      } catch (IOException e) {
        LOG.debug("closing a sent descriptor: {}", e.toString());
      }
    }
  }
}
