package io.shoalfs.client.writeback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.ReportReplicaFailureOp;
import io.shoalfs.proto.ResolveOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WriteBackTest {
  private static final Caller ROOT = Caller.newBuilder().setUid(0).setGid(0).build();
  private static final Caller BOB = Caller.newBuilder().setUid(1000).setGid(1000).build();
  private static final long DIR = 50;
  private static final long LEASE_START = RecordingService.LEASE_START;

  private final RecordingService service = new RecordingService();
  // Flushed only when a test says so: a long flush age, no idle release.
  private final WriteBack writeBack = new WriteBack(service, WriteBackTest::members,
      new JournalSettings(Duration.ofHours(1), 10_000, Duration.ofHours(1)), Runnable::run);

  @AfterEach
  void close() {
    writeBack.close();
  }

  private static List<MemberInfo> members() {
    return List.of(member("m1"), member("m2"), member("m3"));
  }

  private static MemberInfo member(String id) {
    return MemberInfo.newBuilder().setId(id).setAddress(id + ":1").setState(MemberState.UP).build();
  }

  private void holdDir(String path) {
    writeBack.madeDirectory(path, Attr.newBuilder().setInode(DIR).setType(FileType.DIRECTORY)
        .setMode(0755).setNlink(2).build(), 1);
  }

  private MetaResponse create(Caller caller, long parent, String name) throws RpcException {
    return writeBack.local(MetaRequest.newBuilder().setCaller(caller).setMakeNode(
        MakeNodeOp.newBuilder().setParent(parent).setName(name).setType(FileType.REGULAR)
            .setMode(0644).setNowNs(100).setFirstChunk(AllocateChunkOp.getDefaultInstance())));
  }

  private MetaResponse mkdir(long parent, String name) throws RpcException {
    return writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setMakeNode(
        MakeNodeOp.newBuilder().setParent(parent).setName(name).setType(FileType.DIRECTORY)
            .setMode(0755).setNowNs(100)));
  }

  private MetaResponse unlink(long parent, String name) throws RpcException {
    return writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setUnlink(
        UnlinkOp.newBuilder().setParent(parent).setName(name).setNowNs(200)));
  }

  private Attr getattr(long inode) throws RpcException {
    MetaResponse r = writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setGetAttr(GetAttrOp.newBuilder().setInode(inode)));
    return r == null ? null : r.getAttr();
  }

  @Test
  void nothingIsLocalOutsideAHeldDirectory() throws RpcException {
    assertNull(create(ROOT, DIR, "a"));
    assertNull(writeBack.resolve("/d/a"));
  }

  @Test
  void aCreateInAHeldDirectoryIsAnsweredHereAndItsFirstWritePlacesItsChunk() throws Exception {
    holdDir("/d");
    MetaResponse made = create(BOB, DIR, "a");
    assertNotNull(made);
    Attr a = made.getAttr();
    assertEquals(LEASE_START, a.getInode());
    assertEquals(1000, a.getUid());
    assertEquals(0644, a.getMode());
    assertEquals(0, made.getLocationsCount(), "an empty file has no chunk");
    assertEquals(a, getattr(a.getInode()));
    assertEquals(a, writeBack.resolve("/d/a").attr());
    assertEquals(100, getattr(DIR).getMtimeNs(), "the parent's times move with the create");
    RpcException exists = assertThrows(RpcException.class, () -> create(ROOT, DIR, "a"));
    assertEquals(Status.EEXIST, exists.status());
    assertEquals(Status.ENOENT,
        assertThrows(RpcException.class, () -> writeBack.resolve("/d/nothing")).status());

    MetaResponse placed = allocate(a.getInode(), 0);
    assertNotNull(placed, "placed here");
    assertEquals(1, placed.getLocations(0).getVersion());
    assertEquals(2, placed.getLocations(0).getReplicasCount(), "the lease's replication");
    assertNull(allocate(a.getInode(), 0), "placed before: a failed write's re-placing is the servers'");
    assertTrue(service.journals.isEmpty(), "nothing sent before a flush");

    writeBack.flush();
    List<MetaRequest> sent = service.allOps();
    assertEquals(2, sent.size());
    assertEquals(LEASE_START, sent.get(0).getMakeNode().getInode());
    assertFalse(sent.get(0).getMakeNode().hasFirstChunk());
    assertEquals(placed.getLocations(0).getReplicasList(),
        sent.get(1).getAllocateChunk().getPlacedList());
  }

  @Test
  void theChunkMapOfAFileMadeHereIsAnsweredHereUntilAChunkFails() throws Exception {
    holdDir("/d");
    long file = create(ROOT, DIR, "a").getAttr().getInode();
    assertEquals(0, chunkLocations(file).getLocationsCount(), "no chunk yet, and no RPC");
    MetaResponse placed = allocate(file, 0);
    allocate(file, 2);
    MetaResponse map = chunkLocations(file);
    assertEquals(List.of(0, 2), map.getLocationsList().stream()
        .map(l -> l.getChunk().getIndex()).toList());
    assertEquals(placed.getLocations(0), map.getLocations(0));
    assertTrue(service.journals.isEmpty(), "an open's chunk lookup does not send the journal");

    MetaRequest.Builder failed = MetaRequest.newBuilder().setCaller(ROOT).setReportReplicaFailure(
        ReportReplicaFailureOp.newBuilder().setChunk(placed.getLocations(0).getChunk())
            .setVersion(1).setMember("m1"));
    assertNull(writeBack.local(failed));
    writeBack.beforeRemote(failed);
    writeBack.afterRemote(failed);
    assertEquals(1, service.journals.size(), "the placements are registered first");
    assertNull(chunkLocations(file), "the servers re-placed a chunk: their map from now on");
    assertNull(allocate(file, 3));
  }

  private MetaResponse chunkLocations(long inode) throws RpcException {
    return writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setGetChunkLocations(
        GetChunkLocationsOp.newBuilder().setInode(inode).setFirstIndex(0).setCount(16)));
  }

  private MetaResponse allocate(long inode, int index) throws RpcException {
    return writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setAllocateChunk(
        AllocateChunkOp.newBuilder().setChunk(ChunkId.newBuilder().setInode(inode)
            .setIndex(index))));
  }

  @Test
  void createUnlinkCreateOfOneNameIsJournaledInOrderWithTwoInodes() throws Exception {
    holdDir("/d");
    long first = create(ROOT, DIR, "x").getAttr().getInode();
    assertEquals(first, unlink(DIR, "x").getFreedInode());
    assertNull(getattr(first), "a freed inode is not kept");
    long second = create(ROOT, DIR, "x").getAttr().getInode();
    assertNotEquals(first, second);
    writeBack.flush();
    List<MetaRequest.OpCase> order = service.allOps().stream()
        .map(MetaRequest::getOpCase).collect(Collectors.toList());
    assertEquals(List.of(MetaRequest.OpCase.MAKE_NODE, MetaRequest.OpCase.UNLINK,
        MetaRequest.OpCase.MAKE_NODE), order);
  }

  @Test
  void aDirectoryMadeInAHeldOneIsHeldTooWithItsPath() throws Exception {
    holdDir("/d");
    MetaResponse sub = mkdir(DIR, "sub");
    assertTrue(sub.getCapabilityGranted());
    long subIno = sub.getAttr().getInode();
    assertEquals(3, getattr(DIR).getNlink());
    long file = create(ROOT, subIno, "f").getAttr().getInode();
    assertEquals(file, writeBack.resolve("/d/sub/f").attr().getInode());
    assertEquals(Status.ENOTEMPTY, assertThrows(RpcException.class, () -> writeBack.local(
        MetaRequest.newBuilder().setCaller(ROOT).setRmdir(
            RmdirOp.newBuilder().setParent(DIR).setName("sub")))).status());
    MetaResponse listing = writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setReadDir(ReadDirOp.newBuilder().setInode(DIR).setWithAttrs(true)));
    assertEquals(1, listing.getEntriesCount());
    assertEquals("sub", listing.getEntries(0).getName());
    writeBack.flush();
    assertTrue(service.allOps().get(0).getMakeNode().getTakeCapability(),
        "the servers record the new directory as held by this session");
  }

  @Test
  void aRenameMovesAHeldDirectoryAndEveryPathBelowIt() throws Exception {
    holdDir("/d");
    long a = mkdir(DIR, "a").getAttr().getInode();
    long b = mkdir(DIR, "b").getAttr().getInode();
    long f = create(ROOT, a, "f").getAttr().getInode();
    MetaResponse moved = writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setRename(
        RenameOp.newBuilder().setSrcParent(DIR).setSrcName("a").setDstParent(b).setDstName("a2")
            .setNowNs(300)));
    assertNotNull(moved);
    assertEquals(f, writeBack.resolve("/d/b/a2/f").attr().getInode());
    assertEquals(Status.ENOENT,
        assertThrows(RpcException.class, () -> writeBack.resolve("/d/a/f")).status());
    assertEquals(3, getattr(b).getNlink(), "b gained a subdirectory");
    // Into its own subtree: not decided here (the servers refuse it).
    assertNull(writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setRename(
        RenameOp.newBuilder().setSrcParent(DIR).setSrcName("b").setDstParent(a)
            .setDstName("loop").setNowNs(400))));
  }

  @Test
  void aRemoteCallAboutALocalInodeSendsTheJournalFirstAndStopsKeepingIt() throws Exception {
    holdDir("/d");
    long f = create(ROOT, DIR, "f").getAttr().getInode();
    MetaRequest.Builder truncate = MetaRequest.newBuilder().setCaller(ROOT).setSetAttr(
        SetAttrOp.newBuilder().setInode(f).setValid(8).setSize(0));
    assertNull(writeBack.local(truncate), "a size change is the servers' (it touches data)");
    writeBack.beforeRemote(truncate);
    assertEquals(1, service.journals.size(), "the create went first");
    assertNull(getattr(f), "the servers' answer decides the attributes now");
    assertNotNull(getattr(DIR), "the directory stays held");
  }

  @Test
  void aCommitAndTimesOfALocalFileStayLocal() throws Exception {
    holdDir("/d");
    long f = create(ROOT, DIR, "f").getAttr().getInode();
    writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setCommitWrite(
        CommitWriteOp.newBuilder().setInode(f).setEndOffset(16384).setNowNs(500)));
    MetaResponse times = writeBack.local(MetaRequest.newBuilder().setCaller(ROOT).setSetAttr(
        SetAttrOp.newBuilder().setInode(f).setValid(16 | 32).setAtimeNs(7).setMtimeNs(8)
            .setNowNs(600)));
    assertEquals(16384, times.getAttr().getSize());
    assertEquals(8, times.getAttr().getMtimeNs());
    assertEquals(600, times.getAttr().getCtimeNs());
    // Another user's chown is the servers' call.
    assertNull(writeBack.local(MetaRequest.newBuilder().setCaller(BOB).setSetAttr(
        SetAttrOp.newBuilder().setInode(f).setValid(2).setUid(1000).setNowNs(700))));
  }

  @Test
  void aRecallSendsTheJournalWithTheDirectoryGivenBack() throws Exception {
    holdDir("/d");
    create(ROOT, DIR, "f");
    writeBack.recalled(List.of(DIR));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (service.releases.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(List.of(DIR), service.releases.get(0));
    assertEquals(1, service.journals.get(0).size());
    assertNull(create(ROOT, DIR, "g"), "given back: the servers decide again");
    assertNull(getattr(DIR));
  }

  @Test
  void aRefusedJournaledOpFailsTheNextReportAndGivesBackEverything() throws Exception {
    holdDir("/d");
    create(ROOT, DIR, "f");
    service.answerEach = Status.ENOSPC;
    writeBack.flush();
    RpcException failure = writeBack.takeFailure();
    assertNotNull(failure);
    assertEquals(Status.EIO, failure.status());
    assertNull(writeBack.takeFailure(), "reported once");
    assertNull(create(ROOT, DIR, "g"));
  }

  @Test
  void anEndedSessionLosesTheJournalAndReportsIt() throws Exception {
    holdDir("/d");
    create(ROOT, DIR, "f");
    writeBack.sessionEnded();
    assertNotNull(writeBack.takeFailure());
    assertNull(create(ROOT, DIR, "g"));
    writeBack.flush();
    assertTrue(service.journals.isEmpty());
  }

  @Test
  void createsGoToTheServersWhenTheLeasedInodesRunOut() throws Exception {
    RecordingService small = new RecordingService();
    small.leaseCount = 2;
    small.leasesLeft = 1;
    try (WriteBack twoInodes = new WriteBack(small, WriteBackTest::members,
        new JournalSettings(Duration.ofHours(1), 10_000, Duration.ofHours(1)), Runnable::run)) {
      twoInodes.madeDirectory("/d", Attr.newBuilder().setInode(DIR)
          .setType(FileType.DIRECTORY).setMode(0755).setNlink(2).build(), 1);
      MakeNodeOp.Builder op = MakeNodeOp.newBuilder().setParent(DIR).setType(FileType.REGULAR)
          .setMode(0644);
      assertNotNull(twoInodes.local(MetaRequest.newBuilder().setCaller(ROOT)
          .setMakeNode(op.clone().setName("a"))));
      assertNotNull(twoInodes.local(MetaRequest.newBuilder().setCaller(ROOT)
          .setMakeNode(op.clone().setName("b"))));
      MetaRequest.Builder third = MetaRequest.newBuilder().setCaller(ROOT)
          .setMakeNode(op.clone().setName("c"));
      assertNull(twoInodes.local(third), "no inode number left: the servers create it");
      twoInodes.beforeRemote(third);
      assertEquals(List.of(DIR), small.releases.get(0),
          "the journal went first, the directory given back with it");
      assertEquals(2, small.journals.get(0).size());
    }
  }

  @Test
  void removingAHeldDirectoryThroughTheServersSendsItsJournalAndGivesItBackFirst()
      throws Exception {
    holdDir("/d");
    create(ROOT, DIR, "f");
    unlink(DIR, "f");
    // /d's parent (1) is not held: rm -rf's rmdir of /d goes to the servers.
    MetaRequest.Builder rmdir = MetaRequest.newBuilder().setCaller(ROOT)
        .setRmdir(RmdirOp.newBuilder().setParent(1).setName("d"));
    assertNull(writeBack.local(rmdir));
    writeBack.beforeRemote(rmdir);
    assertEquals(List.of(DIR), service.releases.get(0));
    assertEquals(2, service.journals.get(0).size(), "the create and unlink went first");
    assertNull(writeBack.resolve("/d"), "no longer answered here");
  }

  @Test
  void aResolveThroughNoHeldDirectoryLeavesTheJournalAlone() throws Exception {
    holdDir("/d");
    create(ROOT, DIR, "f");
    MetaRequest.Builder root = MetaRequest.newBuilder().setCaller(ROOT)
        .setResolve(ResolveOp.newBuilder().setPath("/"));
    assertTrue(writeBack.beforeRemote(root));
    writeBack.afterRemote(root);
    MetaRequest.Builder elsewhere = MetaRequest.newBuilder().setCaller(ROOT)
        .setResolve(ResolveOp.newBuilder().setPath("/e/f"));
    writeBack.beforeRemote(elsewhere);
    writeBack.afterRemote(elsewhere);
    assertTrue(service.journals.isEmpty(), "the kernel asks about the root on every path walk");

    MetaRequest.Builder through = MetaRequest.newBuilder().setCaller(ROOT)
        .setResolve(ResolveOp.newBuilder().setPath("/d/sub/x"));
    writeBack.beforeRemote(through);
    writeBack.afterRemote(through);
    assertEquals(1, service.journals.size(), "a path through /d needs what was done there");
  }

  @Test
  void aNameTooLongIsRefusedAsTheServersWould() {
    holdDir("/d");
    String tooLong = "b".repeat(256);
    assertEquals(Status.ENAMETOOLONG,
        assertThrows(RpcException.class, () -> writeBack.resolve("/d/" + tooLong)).status());
    assertEquals(Status.ENAMETOOLONG, assertThrows(RpcException.class,
        () -> create(ROOT, DIR, tooLong)).status());
  }

  @Test
  void callsAboutAnInodeHandedToTheServersWaitUntilItsJournalIsApplied() throws Exception {
    holdDir("/d");
    long f = create(ROOT, DIR, "f").getAttr().getInode();
    service.gate = new java.util.concurrent.CountDownLatch(1);
    MetaRequest.Builder append = MetaRequest.newBuilder().setCaller(ROOT).setAppend(
        io.shoalfs.proto.AppendOp.newBuilder().setInode(f).setLength(10));
    Thread first = new Thread(() -> {
      try {
        writeBack.beforeRemote(append.clone());
      } catch (RpcException e) {
        throw new AssertionError(e);
      }
    });
    first.start();
    // The first caller is sending the journal that creates f; a second one must not reach
    // the servers about f before it is applied.
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (getattr(f) != null && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    java.util.concurrent.atomic.AtomicBoolean secondDone =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread second = new Thread(() -> {
      try {
        writeBack.beforeRemote(append.clone());
        secondDone.set(true);
      } catch (RpcException e) {
        throw new AssertionError(e);
      }
    });
    second.start();
    Thread.sleep(200);
    assertFalse(secondDone.get(), "the second call went on before the create was applied");
    service.gate.countDown();
    first.join(5000);
    second.join(5000);
    assertTrue(secondDone.get());
    assertEquals(1, service.journals.size());
  }
}
