package io.shoalfs.client;

import java.util.Arrays;

/** What the kernel's buffer is to the core in tests: an array a read fills or a write sends. */
final class KernelBuffer implements ReadTarget, WriteSource {
  private final byte[] bytes;

  private KernelBuffer(byte[] bytes) {
    this.bytes = bytes;
  }

  static KernelBuffer of(int size) {
    return new KernelBuffer(new byte[size]);
  }

  /** A buffer holding a copy of {@code content}. */
  static KernelBuffer with(byte[] content) {
    return new KernelBuffer(content.clone());
  }

  /** The first {@code n} bytes. */
  byte[] bytes(int n) {
    return Arrays.copyOf(bytes, n);
  }

  /** Every byte set to {@code value}: what was in the buffer before a read. */
  void fill(byte value) {
    Arrays.fill(bytes, value);
  }

  @Override
  public void put(long at, byte[] src, int from, int n) {
    System.arraycopy(src, from, bytes, Math.toIntExact(at), n);
  }

  @Override
  public void putByte(long at, byte value) {
    bytes[Math.toIntExact(at)] = value;
  }

  @Override
  public void zero(long at, long n) {
    Arrays.fill(bytes, Math.toIntExact(at), Math.toIntExact(at + n), (byte) 0);
  }

  @Override
  public void copyTo(byte[] dst, int at, int n) {
    System.arraycopy(bytes, 0, dst, at, n);
  }
}
