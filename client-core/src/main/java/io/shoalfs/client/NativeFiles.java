package io.shoalfs.client;

import java.io.IOException;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.Out;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * Positional reads and fstat on a raw file descriptor (one received over a Unix domain socket),
 * which the JDK cannot wrap: libc's {@code pread} bound with jnr-ffi, and jnr-posix's fstat
 * (both already on the classpath for the FUSE binding). The JDK's stat of
 * {@code /proc/self/fd/N} is no substitute: it answers size 0.
 */
final class NativeFiles {
  /** The part of libc used here. */
  public interface LibC {
    long pread(int fd, @Out byte[] buf, long count, long offset);
  }

  private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
  private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

  /** What fstat says of an open file: its size, and how many names it has (0: deleted). */
  record Stat(long size, int links) {}

  static Stat stat(int fd) throws IOException {
    try {
      FileStat st = POSIX.fstat(fd);
      return new Stat(st.st_size(), st.nlink());
    } catch (RuntimeException e) {
      throw new IOException("fstat of descriptor " + fd + " failed: " + e.getMessage(), e);
    }
  }

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
