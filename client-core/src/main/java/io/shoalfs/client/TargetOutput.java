package io.shoalfs.client;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Copies a {@link ByteString} into a {@link ReadTarget} (for the mount, the kernel's read
 * buffer) in one copy: the ByteString hands over its backing array instead of a fresh
 * {@code toByteArray()} copy.
 */
final class TargetOutput extends ByteOutput {
  private final ReadTarget dst;
  private long at;

  private TargetOutput(ReadTarget dst, long at) {
    this.dst = dst;
    this.at = at;
  }

  /** Puts {@code data[from, from + n)} at {@code dst + at}. */
  static void copy(ByteString data, int from, int n, ReadTarget dst, long at) {
    if (n == 0) {
      return;
    }
    ByteString part = from == 0 && n == data.size() ? data : data.substring(from, from + n);
    try {
      UnsafeByteOperations.unsafeWriteTo(part, new TargetOutput(dst, at));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // TargetOutput never throws it
    }
  }

  @Override
  public void write(byte value) {
    dst.putByte(at++, value);
  }

  @Override
  public void write(byte[] value, int offset, int length) {
    dst.put(at, value, offset, length);
    at += length;
  }

  @Override
  public void writeLazy(byte[] value, int offset, int length) {
    write(value, offset, length);
  }

  @Override
  public void write(ByteBuffer value) {
    int n = value.remaining();
    if (value.hasArray()) {
      dst.put(at, value.array(), value.arrayOffset() + value.position(), n);
    } else {
      byte[] bytes = new byte[n];
      value.duplicate().get(bytes);
      dst.put(at, bytes, 0, n);
    }
    at += n;
  }

  @Override
  public void writeLazy(ByteBuffer value) {
    write(value);
  }
}
