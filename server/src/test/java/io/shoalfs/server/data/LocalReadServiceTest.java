package io.shoalfs.server.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.shoalfs.localread.LocalReadRequest;
import io.shoalfs.server.LocalReadEndpoint;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The short-circuit socket against a real store, asked as a mount asks (descriptor mode). */
class LocalReadServiceTest {
  static final int CHUNK = 1 << 20;
  static final int BLOCK = 64 << 10;

  @TempDir Path dir;
  ChunkStore store;
  LocalReadService service;
  EpollEventLoopGroup loop;
  byte[] bytes;

  @BeforeEach
  void start() throws Exception {
    store = new ChunkStore(dir.resolve("chunks"), CHUNK, BLOCK);
    bytes = new byte[3 * BLOCK + 100];
    new Random(7).nextBytes(bytes);
    store.write(5, 0, 0, ByteBuffer.wrap(bytes), false, 4);
    service = LocalReadService.start(store, dir.resolve("local-read.sock")).orElseThrow();
    loop = new EpollEventLoopGroup(1);
  }

  @AfterEach
  void stop() {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    service.close();
    store.close();
  }

  @Test
  void theCurrentVersionGetsReadOnlyDescriptorsOfDataAndChecksums() throws Exception {
    List<FileDescriptor> fds = ask(new LocalReadRequest(5, 0, 4));
    try {
      assertEquals(LocalReadRequest.DESCRIPTORS, fds.size());
      assertArrayEquals(bytes, Files.readAllBytes(viaDescriptor(fds.get(0))));
      // One CRC per block, the short last one included.
      assertEquals(4 * 4, Files.readAllBytes(viaDescriptor(fds.get(1))).length);
      // Handing a copy out must leave it as it was (a descriptor opened for writing truncated it).
      assertArrayEquals(bytes, bytesOf(store.read(5, 0, 0, CHUNK, 4)));
    } finally {
      for (FileDescriptor fd : fds) {
        fd.close();
      }
    }
  }

  @Test
  void anOlderOrNewerVersionOrAMissingCopyIsRefusedWithNoDescriptor() throws Exception {
    assertEquals(List.of(), ask(new LocalReadRequest(5, 0, 3)), "the copy is newer than asked");
    assertEquals(List.of(), ask(new LocalReadRequest(5, 0, 5)), "the copy is stale");
    assertEquals(List.of(), ask(new LocalReadRequest(5, 1, 4)), "no such copy");
  }

  @Test
  void theTokenFileNextToTheSocketHoldsTheAdvertisedToken() throws Exception {
    LocalReadEndpoint endpoint = service.endpoint();
    assertEquals(endpoint.token(),
        Files.readString(Path.of(endpoint.socketPath() + LocalReadRequest.TOKEN_SUFFIX)));
    assertTrue(endpoint.token().length() >= 32, "random enough to tell servers apart");
  }

  /** The descriptors the server sent before closing the connection. */
  private List<FileDescriptor> ask(LocalReadRequest request) throws Exception {
    List<FileDescriptor> received = new ArrayList<>();
    CompletableFuture<List<FileDescriptor>> done = new CompletableFuture<>();
    new Bootstrap().group(loop).channel(EpollDomainSocketChannel.class)
        .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received.add((FileDescriptor) msg);
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            done.complete(received);
          }
        })
        .connect(new DomainSocketAddress(service.endpoint().socketPath()))
        .addListener((ChannelFutureListener) f -> {
          ByteBuf frame = f.channel().alloc().buffer();
          request.encode(frame);
          f.channel().writeAndFlush(frame);
        });
    return done.get(10, TimeUnit.SECONDS);
  }

  private static Path viaDescriptor(FileDescriptor fd) {
    return Path.of("/proc/self/fd/" + fd.intValue());
  }

  private static byte[] bytesOf(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }
}
