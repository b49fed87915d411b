package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CallerGroupsTest {

  @Test
  void parsesTheGroupsLineOfProcStatus() {
    assertEquals(List.of(100, 4242), CallerGroups.parse("\t100 4242 "));
    assertEquals(List.of(), CallerGroups.parse("\t"));
    assertEquals(List.of(-2), CallerGroups.parse(" 4294967294"));
  }

  @Test
  void readsThisProcess() {
    long self = ProcessHandle.current().pid();
    // Whatever the groups are, reading them works and a missing process has none.
    CallerGroups.read(self);
    assertEquals(List.of(), new CallerGroups().of(Integer.MAX_VALUE - 1, 0, 0));
  }

  @Test
  void hiddenNamesAreLibfusesOnly() {
    assertTrue(HiddenFiles.isHiddenName("/d/.fuse_hidden0000008d00000002"));
    assertFalse(HiddenFiles.isHiddenName("/d/.fuse_hidden"));
    assertFalse(HiddenFiles.isHiddenName("/d/.fuse_hiddenXYZ0008d00000002"));
  }

  @Test
  void liveAndGoneProcesses() {
    assertTrue(LockClient.isLiveProcess((int) ProcessHandle.current().pid()));
    assertFalse(LockClient.isLiveProcess(Integer.MAX_VALUE - 7));
  }
}
