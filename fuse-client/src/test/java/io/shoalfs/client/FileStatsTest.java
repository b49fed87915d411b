package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.struct.FileStat;

class FileStatsTest {
  @Test
  void modeCombinesTypeAndPermissionBits() throws Exception {
    assertEquals(0100644, FileStats.modeOf(FileType.REGULAR, 0644));
    assertEquals(0041777, FileStats.modeOf(FileType.DIRECTORY, 01777));
    assertEquals(0120777, FileStats.modeOf(FileType.SYMLINK, 0777));
    assertEquals(0104755, FileStats.modeOf(FileType.REGULAR, 04755), "setuid survives");
    assertEquals(Status.EIO, assertThrows(RpcException.class,
        () -> FileStats.modeOf(FileType.FILE_TYPE_UNSPECIFIED, 0644)).status());
  }

  @Test
  void mknodModeGivesTheFileType() throws Exception {
    assertEquals(FileType.REGULAR, FileStats.typeOf(0644));
    assertEquals(FileType.REGULAR, FileStats.typeOf(0100644));
    assertEquals(FileType.FIFO, FileStats.typeOf(0010644));
    assertEquals(FileType.SOCKET, FileStats.typeOf(0140644));
    assertEquals(FileType.CHAR_DEVICE, FileStats.typeOf(0020644));
    assertEquals(FileType.BLOCK_DEVICE, FileStats.typeOf(0060644));
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
