package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import ru.serce.jnrfuse.struct.FileStat;

/** Between ShoalFS attributes and {@code struct stat}: file type bits and the fields. */
final class FileStats {
  static final int BLOCK_SIZE = 4096;
  static final int PERMISSION_BITS = 07777;

  private FileStats() {}

  /** {@code st_mode}: the type bits of {@code type} plus the permission bits. */
  static int modeOf(FileType type, int permissions) throws RpcException {
    int typeBits;
    switch (type) {
      case REGULAR: typeBits = FileStat.S_IFREG; break;
      case DIRECTORY: typeBits = FileStat.S_IFDIR; break;
      case SYMLINK: typeBits = FileStat.S_IFLNK; break;
      case FIFO: typeBits = FileStat.S_IFIFO; break;
      case SOCKET: typeBits = FileStat.S_IFSOCK; break;
      case CHAR_DEVICE: typeBits = FileStat.S_IFCHR; break;
      case BLOCK_DEVICE: typeBits = FileStat.S_IFBLK; break;
      default: throw new RpcException(Status.EIO, "attribute without a file type");
    }
    return typeBits | (permissions & PERMISSION_BITS);
  }

  /** {@code st_mode} for a readdir entry: the type bits only, 0 (unknown) for no type. */
  static int entryMode(FileType type) {
    try {
      return modeOf(type, 0);
    } catch (RpcException e) {
      return 0;
    }
  }

  /** The file type that mknod's {@code mode} asks for (no type bits = a regular file). */
  static FileType typeOf(long mode) throws RpcException {
    int type = (int) mode & FileStat.S_IFMT;
    if (type == 0 || type == FileStat.S_IFREG) {
      return FileType.REGULAR;
    } else if (type == FileStat.S_IFDIR) {
      return FileType.DIRECTORY;
    } else if (type == FileStat.S_IFIFO) {
      return FileType.FIFO;
    } else if (type == FileStat.S_IFSOCK) {
      return FileType.SOCKET;
    } else if (type == FileStat.S_IFCHR) {
      return FileType.CHAR_DEVICE;
    } else if (type == FileStat.S_IFBLK) {
      return FileType.BLOCK_DEVICE;
    }
    throw new RpcException(Status.EINVAL, "mknod of file type " + Integer.toOctalString(type));
  }

  /** Fills {@code st} from {@code attr}, reporting {@code size} (which may be past attr's). */
  static void fill(FileStat st, Attr attr, long size) throws RpcException {
    st.st_mode.set(modeOf(attr.getType(), attr.getMode()));
    st.st_ino.set(attr.getInode());
    st.st_nlink.set(Integer.toUnsignedLong(attr.getNlink()));
    st.st_uid.set(Integer.toUnsignedLong(attr.getUid()));
    st.st_gid.set(Integer.toUnsignedLong(attr.getGid()));
    st.st_rdev.set(Integer.toUnsignedLong(attr.getRdev()));
    st.st_size.set(size);
    st.st_blksize.set(BLOCK_SIZE);
    st.st_blocks.set((size + 511) / 512);
    FuseTimes.fill(st.st_atim, attr.getAtimeNs());
    FuseTimes.fill(st.st_mtim, attr.getMtimeNs());
    FuseTimes.fill(st.st_ctim, attr.getCtimeNs());
  }
}
