package io.shoalfs.rpc;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.shoalfs.proto.Envelope;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wire framing of every ShoalFS connection: each {@link Envelope} is preceded by its
 * length as a 4-byte big-endian integer.
 *
 * <p>The size limit is checked on the length prefix itself, before a single byte of the
 * frame is buffered, so a peer cannot make us allocate a huge buffer by lying about a
 * length. An oversized prefix surfaces as {@link io.netty.handler.codec.TooLongFrameException},
 * a body that is not an Envelope as {@link MalformedEnvelopeException}; both reach the
 * pipeline's {@code exceptionCaught}.
 */
public final class FrameCodec {
  static final int LENGTH_PREFIX_BYTES = 4;

  static final String FRAME_DECODER = "frameDecoder";
  static final String ENVELOPE_DECODER = "envelopeDecoder";
  static final String ENVELOPE_ENCODER = "envelopeEncoder";

  private FrameCodec() {}

  /**
   * Adds the frame decoder, Envelope decoder and Envelope encoder to the end of {@code p}.
   *
   * @param maxFrameBytes the largest encoded Envelope accepted, not counting the 4-byte prefix
   */
  public static void install(ChannelPipeline p, int maxFrameBytes) {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive: " + maxFrameBytes);
    }
    p.addLast(FRAME_DECODER, new FrameDecoder(maxFrameBytes));
    p.addLast(ENVELOPE_DECODER, new EnvelopeDecoder());
    p.addLast(ENVELOPE_ENCODER, new EnvelopeEncoder());
  }

  /** Cuts the byte stream into frames; a length over the limit fails at once (failFast). */
  private static final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(FrameCodec.class);

    FrameDecoder(int maxFrameBytes) {
      // Netty's maxFrameLength counts the length field too.
      super(
          (int) Math.min(Integer.MAX_VALUE, (long) maxFrameBytes + LENGTH_PREFIX_BYTES),
          0, LENGTH_PREFIX_BYTES, 0, LENGTH_PREFIX_BYTES, true);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws Exception {
      super.decodeLast(ctx, in, out);
      if (in.isReadable()) {
        // The peer went away in the middle of a frame: nothing to answer, nobody to answer.
        LOG.warn("{} closed mid-frame; dropped {} bytes of an incomplete frame",
            ctx.channel().remoteAddress(), in.readableBytes());
        in.skipBytes(in.readableBytes());
      }
    }
  }

  /** Parses a frame straight from the ByteBuf's memory, without copying it to a byte[]. */
  private static final class EnvelopeDecoder extends MessageToMessageDecoder<ByteBuf> {
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
      try {
        out.add(Envelope.parseFrom(nioView(frame)));
      } catch (InvalidProtocolBufferException e) {
        throw new MalformedEnvelopeException(
            "frame of " + frame.readableBytes() + " bytes is not an Envelope: " + e.getMessage(),
            e);
      }
    }

    private static ByteBuffer nioView(ByteBuf frame) {
      if (frame.nioBufferCount() == 1) {
        return frame.nioBuffer();
      }
      // A composite frame: parse from one merged copy.
      ByteBuffer copy = ByteBuffer.allocate(frame.readableBytes());
      frame.getBytes(frame.readerIndex(), copy);
      copy.flip();
      return copy;
    }
  }

  /** Writes prefix and Envelope into one exactly-sized buffer. */
  private static final class EnvelopeEncoder extends MessageToByteEncoder<Envelope> {
    EnvelopeEncoder() {
      super(Envelope.class);
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, Envelope msg, boolean preferDirect) {
      int size = LENGTH_PREFIX_BYTES + msg.getSerializedSize();
      return preferDirect ? ctx.alloc().ioBuffer(size) : ctx.alloc().heapBuffer(size);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Envelope msg, ByteBuf out)
        throws IOException {
      int size = msg.getSerializedSize();
      out.ensureWritable(LENGTH_PREFIX_BYTES + size);
      out.writeInt(size);
      int start = out.writerIndex();
      CodedOutputStream cos = CodedOutputStream.newInstance(out.nioBuffer(start, size));
      msg.writeTo(cos);
      cos.flush();
      out.writerIndex(start + size);
    }
  }
}
