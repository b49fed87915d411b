package io.shoalfs.client;

import io.shoalfs.proto.FileType;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;

/**
 * Between ShoalFS file types and POSIX mode words: the {@code S_IF*} type bits (the values of
 * Linux's {@code <sys/stat.h>}) and the permission bits.
 */
public final class FileModes {
  /** The block size a stat reports, and the unit statfs counts space in. */
  public static final int BLOCK_SIZE = 4096;
  public static final int PERMISSION_BITS = 07777;
  static final int S_IFMT = 0170000;
  static final int S_IFSOCK = 0140000;
  static final int S_IFLNK = 0120000;
  static final int S_IFREG = 0100000;
  static final int S_IFBLK = 0060000;
  static final int S_IFDIR = 0040000;
  static final int S_IFCHR = 0020000;
  static final int S_IFIFO = 0010000;

  private FileModes() {}

  /** {@code st_mode}: the type bits of {@code type} plus the permission bits. */
  public static int modeOf(FileType type, int permissions) throws RpcException {
    int typeBits;
    switch (type) {
      case REGULAR: typeBits = S_IFREG; break;
      case DIRECTORY: typeBits = S_IFDIR; break;
      case SYMLINK: typeBits = S_IFLNK; break;
      case FIFO: typeBits = S_IFIFO; break;
      case SOCKET: typeBits = S_IFSOCK; break;
      case CHAR_DEVICE: typeBits = S_IFCHR; break;
      case BLOCK_DEVICE: typeBits = S_IFBLK; break;
      default: throw new RpcException(Status.EIO, "attribute without a file type");
    }
    return typeBits | (permissions & PERMISSION_BITS);
  }

  /** {@code st_mode} for a readdir entry: the type bits only, 0 (unknown) for no type. */
  public static int entryMode(FileType type) {
    try {
      return modeOf(type, 0);
    } catch (RpcException e) {
      return 0;
    }
  }

  /** The file type that mknod's {@code mode} asks for (no type bits = a regular file). */
  static FileType typeOf(long mode) throws RpcException {
    int type = (int) mode & S_IFMT;
    if (type == 0 || type == S_IFREG) {
      return FileType.REGULAR;
    } else if (type == S_IFDIR) {
      return FileType.DIRECTORY;
    } else if (type == S_IFIFO) {
      return FileType.FIFO;
    } else if (type == S_IFSOCK) {
      return FileType.SOCKET;
    } else if (type == S_IFCHR) {
      return FileType.CHAR_DEVICE;
    } else if (type == S_IFBLK) {
      return FileType.BLOCK_DEVICE;
    }
    throw new RpcException(Status.EINVAL, "mknod of file type " + Integer.toOctalString(type));
  }
}
