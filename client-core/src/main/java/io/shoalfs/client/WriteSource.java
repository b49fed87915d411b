package io.shoalfs.client;

/**
 * Where a write's bytes are: the kernel's buffer for the mount, an array for other callers.
 * Copied out once, into the array that is sent (or gathered, see {@link WriteBehind}).
 */
@FunctionalInterface
public interface WriteSource {
  /** Copies the first {@code n} bytes of the write to {@code dst[at, at + n)}. */
  void copyTo(byte[] dst, int at, int n);

  /** The bytes of {@code array} from index 0. */
  static WriteSource of(byte[] array) {
    return (dst, at, n) -> System.arraycopy(array, 0, dst, at, n);
  }
}
