package io.shoalfs.client;

import java.io.IOException;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.Out;

/**
 * Positional reads on a raw file descriptor (one received over a Unix domain socket), which
 * the JDK cannot wrap: libc's {@code pread}, bound with jnr-ffi (already the FUSE binding's).
 */
final class NativeFiles {
  /** The part of libc used here. */
  public interface LibC {
    long pread(int fd, @Out byte[] buf, long count, long offset);
  }

  private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");

  private NativeFiles() {}

  /**
   * Fills {@code dst[0, length)} from {@code fd} at {@code position}; false if the file ended
   * first (it is shorter than the caller thought: a concurrent truncate).
   */
  static boolean readFully(int fd, byte[] dst, int length, long position) throws IOException {
    int done = 0;
    byte[] rest = dst;
    while (done < length) {
      if (done > 0 && rest == dst) {
        rest = new byte[length - done]; // rare: a short pread in the middle of a file
      }
      long n = LIBC.pread(fd, rest, length - done, position + done);
      if (n < 0) {
        throw new IOException("pread of descriptor " + fd + " failed");
      }
      if (n == 0) {
        return false;
      }
      if (rest != dst) {
        System.arraycopy(rest, 0, dst, done, (int) n);
      }
      done += (int) n;
    }
    return true;
  }
}
