package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.proto.FileType;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import org.junit.jupiter.api.Test;

class FileModesTest {
  @Test
  void modeCombinesTypeAndPermissionBits() throws Exception {
    assertEquals(0100644, FileModes.modeOf(FileType.REGULAR, 0644));
    assertEquals(0041777, FileModes.modeOf(FileType.DIRECTORY, 01777));
    assertEquals(0120777, FileModes.modeOf(FileType.SYMLINK, 0777));
    assertEquals(0104755, FileModes.modeOf(FileType.REGULAR, 04755), "setuid survives");
    assertEquals(Status.EIO, assertThrows(RpcException.class,
        () -> FileModes.modeOf(FileType.FILE_TYPE_UNSPECIFIED, 0644)).status());
  }

  @Test
  void mknodModeGivesTheFileType() throws Exception {
    assertEquals(FileType.REGULAR, FileModes.typeOf(0644));
    assertEquals(FileType.REGULAR, FileModes.typeOf(0100644));
    assertEquals(FileType.FIFO, FileModes.typeOf(0010644));
    assertEquals(FileType.SOCKET, FileModes.typeOf(0140644));
    assertEquals(FileType.CHAR_DEVICE, FileModes.typeOf(0020644));
    assertEquals(FileType.BLOCK_DEVICE, FileModes.typeOf(0060644));
  }
}
