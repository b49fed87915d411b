package io.shoalfs.client;

import jnr.ffi.Pointer;

/** The kernel's buffer of a read, getxattr or listxattr, as the client core fills it. */
final class PointerTarget implements ReadTarget {
  private final Pointer buf;

  PointerTarget(Pointer buf) {
    this.buf = buf;
  }

  @Override
  public void put(long at, byte[] src, int from, int n) {
    buf.put(at, src, from, n);
  }

  @Override
  public void putByte(long at, byte value) {
    buf.putByte(at, value);
  }

  @Override
  public void zero(long at, long n) {
    buf.setMemory(at, n, (byte) 0);
  }
}
