package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.FileType;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.struct.FileStat;

class FileStatsTest {
  @Test
  void theCoresTypeBitsAreStructStats() throws Exception {
    assertEquals(FileStat.S_IFREG, FileModes.modeOf(FileType.REGULAR, 0));
    assertEquals(FileStat.S_IFDIR, FileModes.modeOf(FileType.DIRECTORY, 0));
    assertEquals(FileStat.S_IFLNK, FileModes.modeOf(FileType.SYMLINK, 0));
    assertEquals(FileStat.S_IFIFO, FileModes.modeOf(FileType.FIFO, 0));
    assertEquals(FileStat.S_IFSOCK, FileModes.modeOf(FileType.SOCKET, 0));
    assertEquals(FileStat.S_IFCHR, FileModes.modeOf(FileType.CHAR_DEVICE, 0));
    assertEquals(FileStat.S_IFBLK, FileModes.modeOf(FileType.BLOCK_DEVICE, 0));
    assertEquals(FileStat.S_IFMT, FileModes.S_IFMT);
  }

  @Test
  void fillWritesNanosecondTimesAndTheGivenSize() throws Exception {
    FileStat st = new FileStat(Runtime.getSystemRuntime());
    Attr attr = Attr.newBuilder()
        .setInode(42).setType(FileType.REGULAR).setMode(0640).setUid(1000).setGid(100)
        .setNlink(2).setSize(10)
        .setAtimeNs(1_000_000_000_000_000_001L)
        .setMtimeNs(2_000_000_000_999_999_999L)
        .setCtimeNs(3_000_000_000_500_000_000L)
        .build();
    FileStats.fill(st, attr, 5000);

    assertEquals(0100640, st.st_mode.intValue());
    assertEquals(42, st.st_ino.longValue());
    assertEquals(2, st.st_nlink.longValue());
    assertEquals(1000, st.st_uid.longValue());
    assertEquals(5000, st.st_size.longValue(), "the pending size, not metadata's 10");
    assertEquals(10, st.st_blocks.longValue(), "5000 bytes in 512-byte blocks, rounded up");
    assertEquals(1_000_000_000L, st.st_atim.tv_sec.get());
    assertEquals(1, st.st_atim.tv_nsec.longValue());
    assertEquals(999_999_999L, st.st_mtim.tv_nsec.longValue());
    assertEquals(3_000_000_000L, st.st_ctim.tv_sec.get());
    assertEquals(500_000_000L, st.st_ctim.tv_nsec.longValue());
    assertTrue(FileStat.S_ISREG(st.st_mode.intValue()));
  }
}
