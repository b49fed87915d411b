package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.client.writeback.JournalSettings;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The mount's file system as a library, without FUSE: plain values in, answers and statuses
 * out, over the chunk store in maps with the few metadata answers each test needs.
 */
class MountFileSystemTest {
  private static final long CHUNK = 1024;
  private static final int O_RDWR = 2;
  private static final int LOCK_EX = 2;
  private static final int LOCK_UN = 8;
  private static final CallContext ALICE =
      CallContext.of(Caller.newBuilder().setUid(1000).setGid(100).build(), 4242);
  private static final Attr FILE = Attr.newBuilder()
      .setInode(9).setType(FileType.REGULAR).setMode(0644).setNlink(1).build();
  private static final Attr DIR = Attr.newBuilder()
      .setInode(5).setType(FileType.DIRECTORY).setMode(0755).setNlink(2).build();

  private final ChunkStoreTransport store = new ChunkStoreTransport(CHUNK);
  private final MountFileSystem fs = new MountFileSystem(store, ShoalFuseConfig.defaults()
      .withChunkSize(CHUNK)
      .withJournal(JournalSettings.off())
      .withShortCircuit(new ShortCircuitSettings(false, ShortCircuitSettings.DEFAULT_BLOCK_SIZE)),
      7);

  @AfterEach
  void close() {
    fs.close();
  }

  private static MetaResponse answer(MetaRequest r) {
    return switch (r.getOpCase()) {
      case RESOLVE -> MetaResponse.newBuilder()
          .setAttr(r.getResolve().getPath().equals("/d") ? DIR : FILE).build();
      case GET_ATTR -> MetaResponse.newBuilder().setAttr(FILE).build();
      case READ_DIR -> MetaResponse.newBuilder()
          .addEntries(DirEntry.newBuilder().setName("a").setInode(10).setType(FileType.REGULAR))
          .addEntries(DirEntry.newBuilder().setName("b").setInode(11).setType(FileType.DIRECTORY))
          .addEntries(DirEntry.newBuilder().setName("c").setInode(12).setType(FileType.SYMLINK))
          .setHasMore(true)
          .build();
      case NAMESPACE_STATS -> MetaResponse.newBuilder().setInodeCount(5).build();
      default -> MetaResponse.getDefaultInstance();
    };
  }

  @Test
  void bytesWrittenThroughAHandleReadBackAndShowInItsSize() throws Exception {
    store.metaAnswers = MountFileSystemTest::answer;
    byte[] data = new byte[3000]; // three chunks, the last one short
    new Random(1).nextBytes(data);
    long fh = fs.files().open(ALICE, "/f", O_RDWR);

    assertEquals(3000, fs.files().write(fh, 0, WriteSource.of(data), data.length));
    long[] shown = new long[1];
    fs.attributes().fgetattr(ALICE, "/f", fh, (attr, size) -> shown[0] = size);
    assertEquals(3000, shown[0], "fstat sees what the handle wrote before it is committed");
    byte[] back = new byte[3000];
    assertEquals(3000, fs.files().read(ALICE, fh, 0, back.length, ReadTarget.of(back)));
    assertArrayEquals(data, back);
    fs.files().release(fh);
  }

  @Test
  void aListingStopsWhereTheCallerHasNoRoom() throws Exception {
    store.metaAnswers = MountFileSystemTest::answer;
    List<String> listed = new ArrayList<>();
    List<FileType> types = new ArrayList<>();
    fs.directories().readdir(ALICE, "/d", 0, (name, type, inode) -> {
      if (listed.size() == 4) {
        return true; // full: "b" is not taken
      }
      listed.add(name);
      types.add(type);
      return false;
    });
    assertEquals(List.of(".", "..", "a", "b"), listed);
    assertEquals(java.util.Arrays.asList(null, null, FileType.REGULAR, FileType.DIRECTORY), types);
    assertEquals(1, store.metaOf(MetaRequest.OpCase.READ_DIR).size(),
        "no page asked for after the caller is full");
  }

  @Test
  void statfsReportsTheDataNodesSpaceAndTheInodeCount() throws Exception {
    store.metaAnswers = MountFileSystemTest::answer;
    FsSpace space = fs.attributes().statfs(ALICE);
    assertEquals(1000, space.totalBytes());
    assertEquals(400, space.freeBytes());
    assertEquals(5, space.usedInodes());
    assertEquals(1L << 32, space.freeInodes());
    assertEquals(255, space.nameMax());
  }

  @Test
  void aFlockOnAReleasedHandleUnlocksQuietlyButLocksNothing() throws Exception {
    fs.locks().flock(ALICE, 99, 1, LOCK_UN);
    assertEquals(Status.EBADF,
        assertThrows(RpcException.class, () -> fs.locks().flock(ALICE, 99, 1, LOCK_EX)).status());
  }

  @Test
  void fallocateChecksItsArgumentsBeforeTheHandle() throws Exception {
    assertEquals(Status.EINVAL, assertThrows(RpcException.class,
        () -> fs.files().fallocate(ALICE, 99, 0, 0, 0)).status());
    fs.files().fallocate(ALICE, 99, 1, 0, 10); // FALLOC_FL_KEEP_SIZE: nothing to do
    assertEquals(Status.ENOTSUP, assertThrows(RpcException.class,
        () -> fs.files().fallocate(ALICE, 99, 2, 0, 10)).status());
    assertTrue(store.metaRequests.isEmpty());
  }

  @Test
  void chownLeavesAnIdOfMinusOneAlone() {
    assertTrue(MountAttributes.isUnchanged(-1));
    assertTrue(MountAttributes.isUnchanged(0xFFFF_FFFFL));
    assertFalse(MountAttributes.isUnchanged(1000));
  }
}
