package io.shoalfs.client;

/**
 * Where a read puts its bytes: the kernel's buffer for the mount, an array for other callers.
 * Offsets are from the start of the read. Reads write straight into it, so the mount's bytes
 * are copied once, from the reply into the kernel's buffer.
 */
public interface ReadTarget {
  /** Puts {@code src[from, from + n)} at {@code at}. */
  void put(long at, byte[] src, int from, int n);

  void putByte(long at, byte value);

  /** Zeros {@code [at, at + n)}: a hole inside the file. */
  void zero(long at, long n);

  /** A target that fills {@code array} from index 0. */
  static ReadTarget of(byte[] array) {
    return new ReadTarget() {
      @Override
      public void put(long at, byte[] src, int from, int n) {
        System.arraycopy(src, from, array, Math.toIntExact(at), n);
      }

      @Override
      public void putByte(long at, byte value) {
        array[Math.toIntExact(at)] = value;
      }

      @Override
      public void zero(long at, long n) {
        java.util.Arrays.fill(array, Math.toIntExact(at), Math.toIntExact(at + n), (byte) 0);
      }
    };
  }
}
