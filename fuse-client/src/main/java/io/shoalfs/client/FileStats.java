package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.rpc.RpcException;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Timespec;

/** Fills the kernel's {@code struct stat} from ShoalFS attributes; the mode bits are {@link FileModes}'. */
final class FileStats {
  private FileStats() {}

  /** Fills {@code st} from {@code attr}, reporting {@code size} (which may be past attr's). */
  static void fill(FileStat st, Attr attr, long size) throws RpcException {
    st.st_mode.set(FileModes.modeOf(attr.getType(), attr.getMode()));
    st.st_ino.set(attr.getInode());
    st.st_nlink.set(Integer.toUnsignedLong(attr.getNlink()));
    st.st_uid.set(Integer.toUnsignedLong(attr.getUid()));
    st.st_gid.set(Integer.toUnsignedLong(attr.getGid()));
    st.st_rdev.set(Integer.toUnsignedLong(attr.getRdev()));
    st.st_size.set(size);
    st.st_blksize.set(FileModes.BLOCK_SIZE);
    st.st_blocks.set((size + 511) / 512);
    fill(st.st_atim, attr.getAtimeNs());
    fill(st.st_mtim, attr.getMtimeNs());
    fill(st.st_ctim, attr.getCtimeNs());
  }

  /** Nanoseconds in {@code tv_nsec}, not microseconds (Alluxio once wrote those). */
  private static void fill(Timespec ts, long ns) {
    ts.tv_sec.set(NanoTimes.secondsOf(ns));
    ts.tv_nsec.set(NanoTimes.nanosOf(ns));
  }
}
