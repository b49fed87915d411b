package io.shoalfs.bench;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.rpc.FrameCodec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The RPC framing of a chunk write: an Envelope carrying a WriteChunkOp, encoded to a frame
 * and decoded from one, through the same pipeline handlers a connection has (in an
 * EmbeddedChannel: no socket, no event loop hand-off).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FrameCodecBench {
  static final int MAX_FRAME_BYTES = 64 << 20;

  /** A small read, a block, a FUSE write, a client write frame. */
  @Param({"4096", "65536", "1048576", "4194304"})
  int payloadBytes;

  private EmbeddedChannel channel;
  private Envelope envelope;
  private ByteBuf frame;

  @Setup(Level.Trial)
  public void build() {
    channel = new EmbeddedChannel();
    FrameCodec.install(channel.pipeline(), MAX_FRAME_BYTES);
    byte[] data = new byte[payloadBytes];
    new SplittableRandom(7).nextBytes(data);
    envelope = Envelope.newBuilder()
        .setCallId(12345)
        .setDeadlineMs(30_000)
        .setDataRequest(DataRequest.newBuilder().setWrite(WriteChunkOp.newBuilder()
            .setChunk(ChunkId.newBuilder().setInode(77).setIndex(3))
            .setOffset(1 << 20)
            .setData(ByteString.copyFrom(data))
            .setVersion(9)
            .addChain("127.0.0.1:7101")
            .addChainIds("server-2")))
        .build();
    channel.writeOutbound(envelope);
    ByteBuf encoded = channel.readOutbound();
    frame = Unpooled.directBuffer(encoded.readableBytes()).writeBytes(encoded);
    encoded.release();
  }

  @TearDown(Level.Trial)
  public void close() {
    frame.release();
    channel.finishAndReleaseAll();
  }

  @Benchmark
  public int encode() {
    channel.writeOutbound(envelope);
    ByteBuf encoded = channel.readOutbound();
    int bytes = encoded.readableBytes();
    encoded.release();
    return bytes;
  }

  @Benchmark
  public Envelope decode() {
    channel.writeInbound(frame.retainedDuplicate());
    return channel.readInbound();
  }
}
