package io.shoalfs.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  private static final int MAX = 1024;

  private static EmbeddedChannel channel() {
    EmbeddedChannel ch = new EmbeddedChannel();
    FrameCodec.install(ch.pipeline(), MAX);
    return ch;
  }

  private static byte[] encode(Envelope envelope) {
    EmbeddedChannel ch = channel();
    ch.writeOutbound(envelope);
    ByteBuf buf = ch.readOutbound();
    byte[] bytes = new byte[buf.readableBytes()];
    buf.readBytes(bytes);
    buf.release();
    ch.finishAndReleaseAll();
    return bytes;
  }

  @Test
  void encodesLengthPrefixAndDecodesBack() {
    Envelope sent = Pings.request("hello").toBuilder()
        .setCallId(77).setDeadlineMs(1500).setStatus(Status.OK).build();
    EmbeddedChannel out = channel();
    out.writeOutbound(sent);
    ByteBuf wire = out.readOutbound();
    int size = sent.getSerializedSize();
    assertEquals(4 + size, wire.readableBytes());
    assertEquals(size, wire.getInt(wire.readerIndex()), "big-endian length prefix");

    EmbeddedChannel in = channel();
    assertTrue(in.writeInbound(wire));
    assertEquals(sent, in.readInbound());
    assertNull(in.readInbound());
    assertTrue(!out.finishAndReleaseAll() && !in.finishAndReleaseAll());
  }

  @Test
  void reassemblesFramesSplitAcrossReads() {
    Envelope first = Pings.request("first").toBuilder().setCallId(1).build();
    Envelope second = Pings.request("second, a little longer").toBuilder().setCallId(2).build();
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    both.writeBytes(encode(first));
    both.writeBytes(encode(second));
    byte[] wire = both.toByteArray();

    EmbeddedChannel in = channel();
    int firstEnd = encode(first).length;
    for (int i = 0; i < wire.length; i++) {
      in.writeInbound(Unpooled.wrappedBuffer(new byte[] {wire[i]}));
      if (i == firstEnd - 1) {
        assertEquals(first, in.readInbound());
      } else if (i == wire.length - 1) {
        assertEquals(second, in.readInbound());
      } else {
        assertNull(in.readInbound(), "nothing decoded from a partial frame at byte " + i);
      }
    }
    assertTrue(!in.finishAndReleaseAll());
  }

  @Test
  void decodesSeveralFramesFromOneRead() {
    Envelope a = Pings.request("a").toBuilder().setCallId(10).build();
    Envelope b = Pings.request("b").toBuilder().setCallId(11).build();
    EmbeddedChannel in = channel();
    in.writeInbound(Unpooled.wrappedBuffer(encode(a), encode(b)));
    assertEquals(a, in.readInbound());
    assertEquals(b, in.readInbound());
    in.finishAndReleaseAll();
  }

  @Test
  void acceptsAFrameOfExactlyTheLimit() {
    Envelope big = Pings.request("x".repeat(MAX)).toBuilder().build();
    // Shrink the payload until the whole Envelope is exactly MAX bytes.
    String payload = "x".repeat(MAX - (big.getSerializedSize() - MAX));
    Envelope exact = Pings.request(payload);
    assertEquals(MAX, exact.getSerializedSize());
    EmbeddedChannel in = channel();
    in.writeInbound(Unpooled.wrappedBuffer(encode(exact)));
    assertEquals(exact, in.readInbound());
    in.finishAndReleaseAll();
  }

  @Test
  void rejectsOversizedLengthFromThePrefixAloneWithoutAllocating() {
    AtomicInteger largestAllocation = new AtomicInteger();
    EmbeddedChannel in = channel();
    in.config().setAllocator(new AbstractByteBufAllocator(false) {
      @Override
      protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        largestAllocation.accumulateAndGet(initialCapacity, Math::max);
        return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
      }

      @Override
      protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        largestAllocation.accumulateAndGet(initialCapacity, Math::max);
        return new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
      }

      @Override
      public boolean isDirectBufferPooled() {
        return false;
      }
    });
    // Only the 4 prefix bytes claiming 1 GiB: the decoder must fail now, not wait for the body.
    ByteBuf prefix = Unpooled.buffer(4).writeInt(1 << 30);
    assertThrows(TooLongFrameException.class, () -> in.writeInbound(prefix));
    // What follows is discarded, never accumulated towards a 1 GiB frame.
    in.writeInbound(Unpooled.wrappedBuffer(new byte[512]));
    in.writeInbound(Unpooled.wrappedBuffer(new byte[512]));
    assertNull(in.readInbound());
    assertTrue(largestAllocation.get() < 4096, "allocated " + largestAllocation.get());
    in.finishAndReleaseAll();
  }

  @Test
  void treatsTheLengthPrefixAsUnsigned() {
    EmbeddedChannel in = channel();
    assertThrows(TooLongFrameException.class,
        () -> in.writeInbound(Unpooled.buffer(4).writeInt(0xFFFFFFFF)));
    EmbeddedChannel justOver = channel();
    assertThrows(TooLongFrameException.class,
        () -> justOver.writeInbound(Unpooled.buffer(4).writeInt(MAX + 1)));
    in.finishAndReleaseAll();
    justOver.finishAndReleaseAll();
  }

  @Test
  void rejectsAFrameThatIsNotAnEnvelope() {
    EmbeddedChannel in = channel();
    // 0x0F is field 1 with wire type 7, which does not exist.
    byte[] garbage = RawConnection.frame(new byte[] {0x0F, 0x01, 0x02, 0x03});
    MalformedEnvelopeException e = assertThrows(MalformedEnvelopeException.class,
        () -> in.writeInbound(Unpooled.wrappedBuffer(garbage)));
    assertTrue(e.getMessage().contains("not an Envelope"), e.getMessage());
    in.finishAndReleaseAll();
  }

  @Test
  void keepsUnknownFieldsAndLeavesTheBodyUnset() throws Exception {
    // What a newer peer's unknown message type looks like to us: parses, but no body.
    Envelope unknown = Envelope.parseFrom(new byte[] {0x08, 0x2A, (byte) 0x98, 0x06, 0x01});
    EmbeddedChannel in = channel();
    in.writeInbound(Unpooled.wrappedBuffer(RawConnection.frame(unknown.toByteArray())));
    Envelope decoded = in.readInbound();
    assertEquals(42, decoded.getCallId());
    assertEquals(Envelope.BodyCase.BODY_NOT_SET, decoded.getBodyCase());
    assertTrue(decoded.getUnknownFields().hasField(99));
    in.finishAndReleaseAll();
  }
}
