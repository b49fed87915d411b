package io.shoalfs.client;

import static io.shoalfs.client.ChunkedIoTest.bytesOf;
import static io.shoalfs.client.ChunkedIoTest.buffer;
import static io.shoalfs.client.ChunkedIoTest.bufferWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Truncation and write commits against a data plane in a map and a one-file metadata stand-in
 * that keeps a size (SetAttr SIZE sets it, CommitWrite grows it).
 */
class TruncateAndCommitTest {
  private static final long INODE = 3;
  private static final Caller ALICE = Caller.newBuilder().setUid(1000).build();
  private final AtomicLong metaSize = new AtomicLong();
  private final ChunkStoreTransport transport = new ChunkStoreTransport(16);
  private final MetaClient meta = new MetaClient(transport, Duration.ofSeconds(5), 1);
  private final DataClient data = new DataClient(transport, Duration.ofSeconds(5));
  private final ChunkLocations locations = new ChunkLocations(meta, 100);
  private final ChunkedIo io = new ChunkedIo(transport, locations, 16, Duration.ofSeconds(5));
  private final FileHandleTable handles = new FileHandleTable();
  private final Truncator truncator =
      new Truncator(meta, data, locations, transport, handles, 16);
  private final WriteCommitter committer = new WriteCommitter(meta, data,
      new WriteBehind(io, handles, WriteBackSettings.off()), locations);

  TruncateAndCommitTest() {
    transport.metaAnswers = r -> {
      switch (r.getOpCase()) {
        case SET_ATTR -> metaSize.set(r.getSetAttr().getSize());
        case COMMIT_WRITE -> metaSize.accumulateAndGet(r.getCommitWrite().getEndOffset(), Math::max);
        default -> { }
      }
      return MetaResponse.newBuilder()
          .setAttr(Attr.newBuilder().setInode(INODE).setSize(metaSize.get())).build();
    };
  }

  @Test
  void growingNeverBringsBackBytesPastTheOldEnd() throws Exception {
    // 40 bytes written, the file then cut to 10: bytes 10..40 must not reappear at 10..40.
    write(0, 40);
    committer.commit(handles.open(INODE, 0, ALICE)); // nothing dirty on a fresh handle
    metaSize.set(40);
    truncator.truncate(ALICE, INODE, 10);
    truncator.truncate(ALICE, INODE, 40);

    assertEquals(40, metaSize.get());
    var out = buffer(40);
    assertEquals(40, io.read(INODE, 0, 40, out, metaSize::get));
    byte[] got = bytesOf(out, 40);
    for (int i = 10; i < 40; i++) {
      assertEquals(0, got[i], "byte " + i + " came back after a shrink and grow");
    }
  }

  @Test
  void aSetAttrCarriesTheCommitOfWhatTheHandleWrote() throws Exception {
    OpenFile file = writtenAndUncommitted(40);
    committer.setAttr(ALICE, SetAttrOp.newBuilder().setInode(INODE)
        .setValid(SetAttrBits.MODE).setMode(0600), handles.openFiles(INODE));

    assertEquals(List.of("meta:SET_ATTR"), transport.order, "one metadata call, no commit of its own");
    MetaRequest sent = transport.metaRequests.get(transport.metaRequests.size() - 1);
    assertEquals(40, sent.getSetAttr().getCommit().getEndOffset());
    assertTrue(!file.isDirty());
  }

  @Test
  void aFailedSetAttrLeavesTheWriteToTheNextFlush() throws Exception {
    OpenFile file = writtenAndUncommitted(40);
    var answers = transport.metaAnswers;
    transport.metaAnswers = r -> MetaResponse.newBuilder().setStatus(Status.EPERM).build();
    assertThrows(RpcException.class, () -> committer.setAttr(ALICE,
        SetAttrOp.newBuilder().setInode(INODE).setValid(SetAttrBits.MODE),
        handles.openFiles(INODE)));
    assertTrue(file.isDirty());
    transport.metaAnswers = answers;
    committer.commit(file);
    assertEquals(40, metaSize.get(), "the next flush committed it");
  }

  @Test
  void explicitTimesOnAWrittenFileWaitForItsCommitAndShowAtOnce() throws Exception {
    OpenFile file = writtenAndUncommitted(40);
    assertEquals(null, committer.setAttr(ALICE, times(111, 222), handles.openFiles(INODE)));
    assertEquals(List.of(), transport.order, "held, not sent");
    Attr shown = handles.shown(Attr.newBuilder().setInode(INODE).setAtimeNs(1).setMtimeNs(2).build());
    assertEquals(111, shown.getAtimeNs());
    assertEquals(222, shown.getMtimeNs());

    committer.commit(file); // close
    assertEquals(List.of("meta:SET_ATTR"), transport.order, "times and commit: one entry");
    SetAttrOp sent = lastMeta().getSetAttr();
    assertEquals(SetAttrBits.ATIME | SetAttrBits.MTIME, sent.getValid());
    assertEquals(111, sent.getAtimeNs());
    assertEquals(222, sent.getMtimeNs());
    assertEquals(40, sent.getCommit().getEndOffset());
    assertEquals(ALICE, lastMeta().getCaller());
    assertEquals(1, handles.shown(Attr.newBuilder().setInode(INODE).setAtimeNs(1).build())
        .getAtimeNs(), "nothing held any more");
    committer.commit(file);
    assertEquals(List.of("meta:SET_ATTR"), transport.order, "nothing left to send");
  }

  @Test
  void cpDashAWritesSetsTimesSetsTheModeAndClosesInOneEntry() throws Exception {
    OpenFile file = writtenAndUncommitted(40);
    committer.setAttr(ALICE, times(111, 222), handles.openFiles(INODE));
    committer.setAttr(ALICE, SetAttrOp.newBuilder().setInode(INODE)
        .setValid(SetAttrBits.MODE).setMode(0644), handles.openFiles(INODE));
    committer.commit(file);
    assertEquals(List.of("meta:SET_ATTR"), transport.order);
    SetAttrOp sent = lastMeta().getSetAttr();
    assertEquals(SetAttrBits.MODE | SetAttrBits.ATIME | SetAttrBits.MTIME, sent.getValid());
    assertEquals(0644, sent.getMode());
    assertEquals(222, sent.getMtimeNs());
    assertEquals(40, sent.getCommit().getEndOffset());
  }

  @Test
  void timesAreSentAtOnceWhenNothingIsWaitingToBeCommitted() throws Exception {
    handles.open(INODE, 0, ALICE); // open, nothing written
    MetaResponse answer = committer.setAttr(ALICE, times(111, 222), handles.openFiles(INODE));
    assertTrue(answer != null);
    assertEquals(List.of("meta:SET_ATTR"), transport.order);
    // UTIME_NOW is never held: the service resolves it, under its own permission rule.
    OpenFile file = handles.open(INODE, 0, ALICE);
    file.recordWrite(10);
    transport.order.clear();
    committer.setAttr(ALICE, SetAttrOp.newBuilder().setInode(INODE)
        .setValid(SetAttrBits.ATIME_NOW | SetAttrBits.MTIME_NOW), handles.openFiles(INODE));
    assertEquals(List.of("meta:SET_ATTR"), transport.order);
  }

  @Test
  void aWriteAfterTheTimesWinsOverTheHeldMtime() throws Exception {
    OpenFile file = handles.open(INODE, 0, ALICE);
    file.recordWrite(10);
    committer.setAttr(ALICE, times(111, 222), handles.openFiles(INODE));
    file.recordWrite(20);
    handles.written(INODE);
    committer.commit(file);
    SetAttrOp sent = lastMeta().getSetAttr();
    assertEquals(SetAttrBits.ATIME, sent.getValid(), "the atime stays, the mtime is the write's");
    assertEquals(20, sent.getCommit().getEndOffset());
  }

  @Test
  void refusedTimesAreDroppedAndTheDataStillLands() throws Exception {
    OpenFile file = holdingTimes(111, 222);
    var answers = transport.metaAnswers;
    transport.metaAnswers = r -> r.getOpCase() == MetaRequest.OpCase.SET_ATTR
        ? MetaResponse.newBuilder().setStatus(Status.EPERM).build() : answers.apply(r);
    RpcException refused = assertThrows(RpcException.class, () -> committer.commit(file));
    assertEquals(Status.EPERM, refused.status());
    assertEquals(40, metaSize.get(), "committed on its own");
    assertTrue(!file.isDirty());
  }

  @Test
  void heldTimesSurviveAFailedCommitForTheNextFlush() throws Exception {
    OpenFile file = holdingTimes(111, 222);
    var answers = transport.metaAnswers;
    transport.metaAnswers = r -> MetaResponse.newBuilder().setStatus(Status.UNAVAILABLE).build();
    assertThrows(RpcException.class, () -> committer.commit(file));
    transport.metaAnswers = answers;
    committer.commit(file);
    SetAttrOp sent = lastMeta().getSetAttr();
    assertEquals(222, sent.getMtimeNs());
    assertEquals(40, sent.getCommit().getEndOffset());
  }

  /** A handle that wrote 40 bytes and holds these times for its commit. */
  private OpenFile holdingTimes(long atimeNs, long mtimeNs) throws RpcException {
    OpenFile file = handles.open(INODE, 0, ALICE);
    file.recordWrite(40);
    committer.setAttr(ALICE, times(atimeNs, mtimeNs), handles.openFiles(INODE));
    return file;
  }

  private static SetAttrOp.Builder times(long atimeNs, long mtimeNs) {
    return SetAttrOp.newBuilder().setInode(INODE)
        .setValid(SetAttrBits.ATIME | SetAttrBits.MTIME)
        .setAtimeNs(atimeNs).setMtimeNs(mtimeNs);
  }

  private MetaRequest lastMeta() {
    return transport.metaRequests.get(transport.metaRequests.size() - 1);
  }

  @Test
  void theDataPlaneIsCutBeforeMetadataChanges() throws Exception {
    metaSize.set(100);
    truncator.truncate(ALICE, INODE, 30);
    assertEquals(30, transport.dataRequests.get(0).getTruncate().getSize());
    // The chunk map is asked which chunks lie past the cut (none here: nothing to allocate).
    assertEquals(List.of("meta:GET_ATTR", "meta:GET_CHUNK_LOCATIONS", "data:TRUNCATE",
        "meta:SET_ATTR"), transport.order);
    assertEquals(SetAttrBits.SIZE, transport.metaRequests.get(2).getSetAttr().getValid());
  }

  @Test
  void growingCutsTheDataAtTheOldSizeIncludingPendingWrites() throws Exception {
    metaSize.set(5);
    handles.open(INODE, 0, ALICE).recordWrite(20); // written, not yet committed
    truncator.truncate(ALICE, INODE, 1000);
    assertEquals(20, transport.dataRequests.get(0).getTruncate().getSize(),
        "min(new size, old size) where old counts this mount's uncommitted writes");
    assertEquals(1000, metaSize.get());
  }

  @Test
  void shrinkingStopsAPendingCommitFromGrowingTheFileBack() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    write(0, 40);
    f.recordWrite(40);
    truncator.truncate(ALICE, INODE, 8);
    committer.commit(f);
    assertEquals(8, metaSize.get());
  }

  @Test
  void commitSendsTheEndOnlyWhenDirtyInTheOpenersName() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    committer.commit(f);
    assertEquals(0, transport.metaRequests.size(), "clean handle: no commit");

    f.recordWrite(4096);
    committer.commit(f);
    committer.commit(f);
    assertEquals(1, transport.metaRequests.size(), "committed once");
    MetaRequest commit = transport.metaRequests.get(0);
    assertEquals(4096, commit.getCommitWrite().getEndOffset());
    assertEquals(ALICE, commit.getCaller());
    assertTrue(commit.getCommitWrite().getNowNs() > 1_600_000_000_000_000_000L, "ns, not us");
  }

  @Test
  void aFailedCommitIsRetriedByTheNextFlush() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    f.recordWrite(100);
    transport.metaAnswers = r -> MetaResponse.newBuilder().setStatus(Status.UNAVAILABLE).build();
    assertThrows(RpcException.class, () -> committer.commit(f));
    assertTrue(f.isDirty());
  }

  @Test
  void fsyncSyncsDataBeforeCommitting() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    f.recordWrite(100);
    committer.fsync(f);
    assertEquals(List.of("data:SYNC", "meta:COMMIT_WRITE"), transport.order);
  }

  /** A handle that wrote {@code n} bytes at 0 and has not committed them; nothing sent yet. */
  private OpenFile writtenAndUncommitted(int n) throws RpcException {
    OpenFile file = handles.open(INODE, 0, ALICE);
    write(0, n);
    file.recordWrite(n);
    transport.order.clear();
    return file;
  }

  private void write(long offset, int n) throws RpcException {
    byte[] bytes = new byte[n];
    java.util.Arrays.fill(bytes, (byte) 7);
    io.write(INODE, offset, bufferWith(bytes), n, false);
  }
}
