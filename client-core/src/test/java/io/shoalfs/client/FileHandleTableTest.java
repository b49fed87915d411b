package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class FileHandleTableTest {
  private static final Caller ALICE = Caller.newBuilder().setUid(1000).setGid(1000).build();
  private final FileHandleTable table = new FileHandleTable();

  @Test
  void aFileBeingWrittenReportsItsPendingEndAsSize() {
    OpenFile f = table.open(5, 0, ALICE);
    assertEquals(100, table.effectiveSize(5, 100), "nothing written: metadata's size");
    f.recordWrite(4096);
    assertEquals(4096, table.effectiveSize(5, 100));
    assertEquals(9000, table.effectiveSize(5, 9000), "metadata further along: metadata's size");
    assertEquals(100, table.effectiveSize(6, 100), "another inode is not affected");
  }

  @Test
  void theFurthestOfSeveralHandlesWins() {
    table.open(5, 0, ALICE).recordWrite(10);
    OpenFile far = table.open(5, 0, ALICE);
    far.recordWrite(500);
    assertEquals(500, table.effectiveSize(5, 0));

    table.release(far.fh());
    assertEquals(10, table.effectiveSize(5, 0), "a released handle no longer counts");
  }

  @Test
  void handlesAreDistinctAndReleasedOnce() throws Exception {
    OpenFile a = table.open(5, 0, ALICE);
    OpenFile b = table.open(5, 0, ALICE);
    assertNotEquals(a.fh(), b.fh());
    assertTrue(a.fh() != 0 && b.fh() != 0, "fh 0 means 'no handle' to the mount");
    assertEquals(a, table.get(a.fh()));
    assertEquals(a, table.release(a.fh()));
    assertNull(table.release(a.fh()));
    RpcException e = assertThrows(RpcException.class, () -> table.get(a.fh()));
    assertEquals(Status.EBADF, e.status());
    assertEquals(1, table.openCount());
  }

  @Test
  void truncationClampsWhatAHandleMayCommit() {
    OpenFile f = table.open(5, 0, ALICE);
    f.recordWrite(1000);
    table.truncated(5, 300);
    assertEquals(300, table.effectiveSize(5, 0));
    assertEquals(OptionalLong.of(300), f.takeDirtyEnd());
  }

  @Test
  void dirtyEndIsTakenOnceAndCanBeRestored() {
    OpenFile f = table.open(5, 0, ALICE);
    assertEquals(OptionalLong.empty(), f.takeDirtyEnd(), "no write, nothing to commit");
    f.recordWrite(50);
    f.recordWrite(20);
    assertEquals(OptionalLong.of(50), f.takeDirtyEnd(), "the highest end, not the last");
    assertEquals(OptionalLong.empty(), f.takeDirtyEnd());
    f.markDirty();
    assertEquals(OptionalLong.of(50), f.takeDirtyEnd());
  }

  @Test
  void openFlagsSayAppendAndSync() {
    assertTrue(table.open(1, OpenFile.O_APPEND | 1, ALICE).isAppend());
    assertTrue(!table.open(1, 1, ALICE).isAppend());
    assertTrue(table.open(1, 04010001, ALICE).isSync(), "O_SYNC includes O_DSYNC");
  }
}
