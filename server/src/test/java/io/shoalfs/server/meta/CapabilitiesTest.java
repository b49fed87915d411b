package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.NamespaceFixture.ROOT;
import static io.shoalfs.server.meta.NamespaceFixture.assertStatus;
import static io.shoalfs.server.meta.NamespaceFixture.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.AcquireCapabilityOp;
import io.shoalfs.proto.CloseSessionOp;
import io.shoalfs.proto.ExpireSessionsOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.JournalOp;
import io.shoalfs.proto.KeepAliveOp;
import io.shoalfs.proto.LinkOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.OpenSessionOp;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.RecallCapabilityOp;
import io.shoalfs.proto.ReleaseCapabilityOp;
import io.shoalfs.proto.RemoveXattrOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.ResolveOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.SetXattrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SymlinkOp;
import io.shoalfs.proto.UnlinkOp;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Directory capabilities in the state machine: who gets one, what it keeps other sessions
 * from, how it ends, and that a refused request can be applied later.
 */
class CapabilitiesTest {

  static final long HOLDER = 0xA1;
  static final long OTHER = 0xB2;

  @TempDir Path tmp;
  NamespaceFixture ns;
  private final Map<Long, Long> seqs = new HashMap<>();
  long dir;

  @BeforeEach
  void setUp() throws Exception {
    ns = new NamespaceFixture(tmp.resolve("db"));
    open(HOLDER);
    open(OTHER);
    dir = ns.dir(ROOT, "d");
  }

  @AfterEach
  void tearDown() {
    ns.close();
  }

  // ------------------------------------------------------------------ acquire and release

  @Test
  void aDirectoryIsHeldByOneSessionAndAnotherIsRefusedWithoutARecall() {
    MetaResponse granted = ok(acquire(HOLDER, dir));
    assertTrue(granted.getCapabilityGranted());
    assertEquals(ns.attr(dir), granted.getAttr());

    MetaResponse refused = acquire(OTHER, dir);
    assertStatus(Status.CAP_HELD, refused);
    assertEquals(HOLDER, refused.getCapHolder());
    assertEquals(dir, refused.getCapDir());
    assertFalse(refused.getCapabilityGranted());
    assertTrue(ns.recalls.isEmpty(), "acquire recalls nothing");
    assertEquals(List.of(), keepAlive(HOLDER).getRecalledDirsList(), "nor marks it recalled");

    assertTrue(ok(acquire(HOLDER, dir)).getCapabilityGranted(), "the holder may ask again");
    assertStatus(Status.ENOENT, acquire(HOLDER, 999));
    assertStatus(Status.ENOTDIR, acquire(HOLDER, ns.file(ROOT, "f")));
    assertStatus(Status.EINVAL, ns.entry(MetaRequest.newBuilder()
        .setAcquireCapability(AcquireCapabilityOp.newBuilder().setDir(dir))));
  }

  @Test
  void aHolderWhoseSessionIsGoneIsStaleAndOverwritten() {
    long gone = 0xDEAD; // no session: a record of it is in nobody's way
    try (KvBatch batch = ns.kv.newBatch()) {
      new Capabilities(batch).grant(gone, dir, batch);
      ns.kv.commit(batch);
    }
    ok(from(OTHER, mknod(dir, "x")));
    assertTrue(ok(acquire(OTHER, dir)).getCapabilityGranted());
    assertEquals(OTHER, capability(dir).getHolder());
    assertEquals(0, keys(KeySchema.heldCapabilityPrefix(gone)), "the stale index went with it");
    assertStatus(Status.CAP_HELD, from(HOLDER, mknod(dir, "y")));
  }

  @Test
  void aSessionReleasesOnlyWhatItHolds() {
    ok(acquire(HOLDER, dir));
    ok(from(OTHER, release(dir)));
    assertStatus(Status.CAP_HELD, from(OTHER, mknod(dir, "x")));
    ok(from(HOLDER, release(dir, 12345)));
    ok(from(OTHER, mknod(dir, "x")));
    assertNull(capability(dir));
  }

  // ------------------------------------------------------------------ what a capability keeps out

  /**
   * The holder holds d (with f, sub/ and an xattr), e/ and t/ (empty); every op that touches one
   * of them is refused for another session, leaves the store as it was, and succeeds for the
   * holder.
   */
  @Test
  void everyOpThatTouchesAHeldDirectoryIsRefusedForAnotherSessionAndAllowedForTheHolder() {
    long f = ns.file(dir, "f");
    ns.dir(dir, "sub");
    long e = ns.dir(ROOT, "e");
    long t = ns.dir(ROOT, "t");
    ns.dir(ROOT, "free");
    long outside = ns.file(ROOT, "outside");
    ok(ns.setXattr(dir, "user.k", new byte[] {1}, 0));
    ok(acquire(HOLDER, dir));
    ok(acquire(HOLDER, e));
    ok(acquire(HOLDER, t));

    Map<String, Held> ops = new LinkedHashMap<>();
    ops.put("lookup in it", new Held(dir, () -> MetaRequest.newBuilder()
        .setLookup(LookupOp.newBuilder().setParent(dir).setName("f"))));
    ops.put("readdir of it", new Held(dir, () -> MetaRequest.newBuilder()
        .setReadDir(ReadDirOp.newBuilder().setInode(dir))));
    ops.put("resolve through it", new Held(dir, () -> MetaRequest.newBuilder()
        .setResolve(ResolveOp.newBuilder().setPath("/d/f"))));
    ops.put("resolve to it", new Held(dir, () -> MetaRequest.newBuilder()
        .setResolve(ResolveOp.newBuilder().setPath("/d"))));
    ops.put("resolve up out of it", new Held(e, () -> MetaRequest.newBuilder()
        .setResolve(ResolveOp.newBuilder().setPath("/e/../outside"))));
    ops.put("getattr of it", new Held(dir, () -> MetaRequest.newBuilder()
        .setGetAttr(GetAttrOp.newBuilder().setInode(dir))));
    ops.put("create in it", new Held(dir, () -> mknod(dir, "new")));
    ops.put("symlink in it", new Held(dir, () -> MetaRequest.newBuilder().setSymlink(
        SymlinkOp.newBuilder().setParent(dir).setName("ln").setTarget("f").setNowNs(ns.now()))));
    ops.put("link into it", new Held(dir, () -> MetaRequest.newBuilder().setLink(LinkOp.newBuilder()
        .setInode(outside).setNewParent(dir).setNewName("hard").setNowNs(ns.now()))));
    ops.put("unlink in it", new Held(dir, () -> MetaRequest.newBuilder().setUnlink(
        UnlinkOp.newBuilder().setParent(dir).setName("f").setNowNs(ns.now()))));
    ops.put("rmdir in it", new Held(dir, () -> MetaRequest.newBuilder().setRmdir(
        RmdirOp.newBuilder().setParent(dir).setName("sub").setNowNs(ns.now()))));
    ops.put("rmdir of it", new Held(e, () -> MetaRequest.newBuilder().setRmdir(
        RmdirOp.newBuilder().setParent(ROOT).setName("e").setNowNs(ns.now()))));
    ops.put("rename out of it", new Held(dir, () -> rename(dir, "f", ROOT, "g")));
    ops.put("rename into it", new Held(dir, () -> rename(ROOT, "outside", dir, "moved")));
    ops.put("rename of it", new Held(e, () -> rename(ROOT, "e", ROOT, "e2")));
    ops.put("rename over it", new Held(t, () -> rename(ROOT, "free", ROOT, "t")));
    ops.put("setattr of it", new Held(dir, () -> MetaRequest.newBuilder().setSetAttr(
        SetAttrOp.newBuilder().setInode(dir).setValid(NamespaceWrites.SET_MODE).setMode(0700)
            .setNowNs(ns.now()))));
    ops.put("setxattr of it", new Held(dir, () -> MetaRequest.newBuilder().setSetXattr(
        SetXattrOp.newBuilder().setInode(dir).setName("user.j")
            .setValue(ByteString.copyFrom(new byte[] {2})).setNowNs(ns.now()))));
    ops.put("removexattr of it", new Held(dir, () -> MetaRequest.newBuilder().setRemoveXattr(
        RemoveXattrOp.newBuilder().setInode(dir).setName("user.k").setNowNs(ns.now()))));
    ops.put("setattr of a file in it", new Held(dir, () -> MetaRequest.newBuilder().setSetAttr(
        SetAttrOp.newBuilder().setInode(f).setValid(NamespaceWrites.SET_MODE).setMode(0600)
            .setNowNs(ns.now()))));

    List<String> before = ns.dump();
    for (Map.Entry<String, Held> op : ops.entrySet()) {
      MetaResponse refused = attempt(OTHER, op.getValue().request().get());
      assertEquals(Status.CAP_HELD, refused.getStatus(), op.getKey() + ": " + refused);
      assertEquals(HOLDER, refused.getCapHolder(), op.getKey());
      assertEquals(op.getValue().dir(), refused.getCapDir(), op.getKey());
      assertEquals(before, ns.dump(), op.getKey() + " changed nothing");
      assertStatus(Status.OK, attempt(HOLDER, op.getValue().request().get()));
      assertStatus(Status.OK, attempt(0, op.getValue().request().get()));
    }
    // What touches no held directory is not refused: d's entry in the root, a read of f by
    // inode (a handle opened before the capability was taken), a file outside.
    ok(attempt(OTHER, MetaRequest.newBuilder()
        .setLookup(LookupOp.newBuilder().setParent(ROOT).setName("d"))));
    ok(attempt(OTHER, MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(f))));
    ok(attempt(OTHER, MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder()
        .setInode(outside).setValid(NamespaceWrites.SET_MODE).setMode(0600).setNowNs(ns.now()))));
  }

  /** What one op touches, and the op. */
  private record Held(long dir, Supplier<MetaRequest.Builder> request) {}

  /** Reads as a query would run them; mutations applied to a batch that is then dropped. */
  private MetaResponse attempt(long client, MetaRequest.Builder request) {
    request.setClientId(client);
    return Namespace.isReadOnly(request.build()) ? ns.read(request) : ns.tryApply(request);
  }

  @Test
  void aRefusedRequestIsNotRecordedSoTheSameRequestIsAppliedOnceTheCapabilityIsBack() {
    ok(acquire(HOLDER, dir));
    long seqBefore = sessionOf(OTHER).getMaxSeq();
    MetaRequest.Builder create = mknod(dir, "late").setClientId(OTHER).setRequestSeq(500);
    MetaResponse refused = ns.entry(create.clone());
    assertStatus(Status.CAP_HELD, refused);
    assertEquals(0, keys(KeySchema.reply(OTHER, 500)), "no reply recorded");
    assertEquals(seqBefore, sessionOf(OTHER).getMaxSeq(), "the reply window did not move");

    ok(from(HOLDER, release(dir)));
    MetaResponse applied = ok(ns.entry(create.clone()));
    assertEquals(applied, ns.entry(create.clone()), "now it is recorded: a retry is answered");
    assertEquals(500, sessionOf(OTHER).getMaxSeq());
    assertEquals(applied.getAttr(), ok(ns.lookup(dir, "late")).getAttr());
  }

  @Test
  void aJournalIsRefusedOpByOpAndItsReleaseComesAfterItsOps() {
    long mine = ns.dir(ROOT, "mine");
    ok(acquire(HOLDER, dir));
    ok(acquire(OTHER, mine));
    MetaResponse journal = ok(from(HOLDER, MetaRequest.newBuilder().setJournal(JournalOp.newBuilder()
        .addOps(mknod(dir, "a"))
        .addOps(mknod(mine, "b"))
        .addOps(mknod(dir, "c"))
        .addRelease(dir))));
    assertEquals(List.of(Status.OK, Status.CAP_HELD, Status.OK),
        journal.getBatchedList().stream().map(MetaResponse::getStatus).toList());
    assertEquals(OTHER, journal.getBatched(1).getCapHolder());
    assertNull(capability(dir), "released after the ops that needed it");
    assertEquals(List.of("a", "c"), ns.names(dir));
    ok(from(OTHER, mknod(dir, "d")));
  }

  // ------------------------------------------------------------------ how capabilities end

  @Test
  void aSessionThatEndsTakesItsCapabilitiesWithIt() {
    long second = ns.dir(ROOT, "second");
    ok(acquire(HOLDER, dir));
    ok(acquire(HOLDER, second));
    ok(from(HOLDER, MetaRequest.newBuilder().setCloseSession(CloseSessionOp.getDefaultInstance())));
    ok(from(OTHER, mknod(dir, "x")));
    ok(from(OTHER, mknod(second, "x")));
    assertEquals(0, keys(new byte[] {KeySchema.CAPABILITY}));
    assertEquals(0, keys(new byte[] {KeySchema.HELD_CAPABILITY}));

    // Expired by the leader: the same.
    ok(acquire(OTHER, dir));
    long stamp = ok(ns.entry(MetaRequest.newBuilder().setExpireSessions(
        ExpireSessionsOp.newBuilder().setSeenBefore(Long.MAX_VALUE).setLimit(8)))).getAppliedIndex();
    assertTrue(stamp > 0);
    assertNull(capability(dir));
    assertEquals(0, keys(new byte[] {KeySchema.HELD_CAPABILITY}));
  }

  @Test
  void aHeldDirectoryThatIsRemovedTakesItsCapabilityWithIt() {
    long gone = ns.dir(ROOT, "gone");
    ok(acquire(HOLDER, gone));
    ok(from(HOLDER, MetaRequest.newBuilder().setRmdir(
        RmdirOp.newBuilder().setParent(ROOT).setName("gone").setNowNs(ns.now()))));
    assertNull(capability(gone));
    assertEquals(0, keys(KeySchema.heldCapabilityPrefix(HOLDER)));
  }

  @Test
  void aDirectoryMadeWithTakeCapabilityStartsOutHeldByItsMaker() {
    MetaResponse made = ok(from(HOLDER, mknod(ROOT, "fresh", FileType.DIRECTORY, true)));
    assertTrue(made.getCapabilityGranted());
    long fresh = made.getAttr().getInode();
    assertEquals(HOLDER, capability(fresh).getHolder());
    assertStatus(Status.CAP_HELD, from(OTHER, mknod(fresh, "x")));
    ok(from(HOLDER, mknod(fresh, "x")));

    MetaResponse file = ok(from(HOLDER, mknod(ROOT, "plain", FileType.REGULAR, true)));
    assertFalse(file.getCapabilityGranted(), "only directories");
    assertNull(capability(file.getAttr().getInode()));
    MetaResponse server = ok(ns.entry(mknod(ROOT, "nobodys", FileType.DIRECTORY, true)));
    assertFalse(server.getCapabilityGranted(), "no session, no holder");
    MetaResponse failed = from(HOLDER, mknod(ROOT, "fresh", FileType.DIRECTORY, true));
    assertStatus(Status.EEXIST, failed);
    assertFalse(failed.getCapabilityGranted());
  }

  // ------------------------------------------------------------------ recall

  @Test
  void aRecallMarksTheCapabilityIsAnnouncedAndShowsInTheHoldersKeepAlive() {
    long other = ns.dir(ROOT, "other");
    ok(acquire(HOLDER, dir));
    ok(acquire(HOLDER, other));
    ok(ns.entry(recall(dir)));
    assertEquals(List.of(new EntryApplier.Recall(HOLDER, dir)), ns.recalls);
    assertTrue(capability(dir).getRecalled());
    assertFalse(capability(other).getRecalled());
    assertEquals(List.of(dir), keepAlive(HOLDER).getRecalledDirsList());
    assertEquals(List.of(), keepAlive(OTHER).getRecalledDirsList());
    assertEquals(Status.CAP_HELD, from(OTHER, mknod(dir, "x")).getStatus(),
        "recalled is still held");

    ok(acquire(HOLDER, dir));
    assertTrue(capability(dir).getRecalled(), "asking again does not undo a recall");
    ok(from(HOLDER, release(dir)));
    ok(ns.entry(recall(dir)));
    assertEquals(1, ns.recalls.size(), "nobody holds it: nothing to announce");
    assertStatus(Status.EPERM, from(OTHER, recall(other)));
    assertFalse(capability(other).getRecalled());
  }

  // ------------------------------------------------------------------ shared capabilities

  static final long THIRD = 0xC3;

  @Test
  void sharedHoldersCoexistReadOnAndKeepAnExclusiveHolderOut() {
    open(THIRD);
    assertTrue(ok(acquireShared(HOLDER, dir)).getCapabilityGranted());
    assertTrue(ok(acquireShared(OTHER, dir)).getCapabilityGranted());
    assertEquals(2, capability(dir).getReadersCount());
    ok(attempt(THIRD, MetaRequest.newBuilder()
        .setReadDir(ReadDirOp.newBuilder().setInode(dir))));

    MetaResponse refused = acquire(THIRD, dir);
    assertEquals(Status.CAP_HELD, refused.getStatus());
    assertTrue(refused.getCapShared(), "a reader is in the way");
    assertEquals(2, capability(dir).getReadersCount(), "a refusal changes nothing");

    ok(from(OTHER, release(dir)));
    assertEquals(Status.CAP_HELD, acquire(THIRD, dir).getStatus());
    ok(acquire(HOLDER, dir)); // the last reader takes it exclusively
    assertEquals(HOLDER, capability(dir).getHolder());
    assertEquals(0, capability(dir).getReadersCount());
    MetaResponse shut = acquireShared(OTHER, dir);
    assertEquals(Status.CAP_HELD, shut.getStatus(), "no reader beside an exclusive holder");
    assertFalse(shut.getCapShared());
    ok(acquireShared(HOLDER, dir));
    assertEquals(HOLDER, capability(dir).getHolder(), "asking for less keeps the exclusive one");
  }

  /**
   * Every change a reader's copy would miss is kept out for other sessions, until the reader
   * gives it back; the reader's own changes and the servers' are not, and reads never are.
   */
  @Test
  void everyChangeAReaderWouldMissIsRefusedForAnotherSession() {
    long f = ns.file(dir, "f");
    ns.dir(dir, "sub");
    long e = ns.dir(ROOT, "e");
    long outside = ns.file(ROOT, "outside");
    ok(ns.setXattr(f, "user.k", new byte[] {1}, 0));
    ok(acquireShared(HOLDER, dir));
    ok(acquireShared(HOLDER, e));

    Map<String, Held> ops = new LinkedHashMap<>();
    ops.put("create in it", new Held(dir, () -> mknod(dir, "new")));
    ops.put("unlink in it", new Held(dir, () -> MetaRequest.newBuilder().setUnlink(
        UnlinkOp.newBuilder().setParent(dir).setName("f").setNowNs(ns.now()))));
    ops.put("rmdir in it", new Held(dir, () -> MetaRequest.newBuilder().setRmdir(
        RmdirOp.newBuilder().setParent(dir).setName("sub").setNowNs(ns.now()))));
    ops.put("rmdir of it", new Held(e, () -> MetaRequest.newBuilder().setRmdir(
        RmdirOp.newBuilder().setParent(ROOT).setName("e").setNowNs(ns.now()))));
    ops.put("rename out of it", new Held(dir, () -> rename(dir, "f", ROOT, "g")));
    ops.put("rename into it", new Held(dir, () -> rename(ROOT, "outside", dir, "moved")));
    ops.put("link into it", new Held(dir, () -> MetaRequest.newBuilder().setLink(LinkOp.newBuilder()
        .setInode(outside).setNewParent(dir).setNewName("hard").setNowNs(ns.now()))));
    ops.put("link of a file in it", new Held(dir, () -> MetaRequest.newBuilder().setLink(
        LinkOp.newBuilder().setInode(f).setNewParent(ROOT).setNewName("hard").setNowNs(ns.now()))));
    ops.put("chmod of it", new Held(dir, () -> MetaRequest.newBuilder().setSetAttr(
        SetAttrOp.newBuilder().setInode(dir).setValid(NamespaceWrites.SET_MODE).setMode(0700)
            .setNowNs(ns.now()))));
    ops.put("chmod of a file in it", new Held(dir, () -> MetaRequest.newBuilder().setSetAttr(
        SetAttrOp.newBuilder().setInode(f).setValid(NamespaceWrites.SET_MODE).setMode(0600)
            .setNowNs(ns.now()))));
    ops.put("write commit of a file in it", new Held(dir, () -> MetaRequest.newBuilder()
        .setCommitWrite(io.shoalfs.proto.CommitWriteOp.newBuilder().setInode(f).setEndOffset(10)
            .setNowNs(ns.now()))));
    ops.put("append to a file in it", new Held(dir, () -> MetaRequest.newBuilder()
        .setAppend(io.shoalfs.proto.AppendOp.newBuilder().setInode(f).setLength(10)
            .setNowNs(ns.now()))));
    ops.put("setxattr of a file in it", new Held(dir, () -> MetaRequest.newBuilder().setSetXattr(
        SetXattrOp.newBuilder().setInode(f).setName("user.j")
            .setValue(ByteString.copyFrom(new byte[] {2})).setNowNs(ns.now()))));
    ops.put("removexattr of a file in it", new Held(dir, () -> MetaRequest.newBuilder()
        .setRemoveXattr(RemoveXattrOp.newBuilder().setInode(f).setName("user.k")
            .setNowNs(ns.now()))));

    List<String> before = ns.dump();
    for (Map.Entry<String, Held> op : ops.entrySet()) {
      MetaResponse refused = attempt(OTHER, op.getValue().request().get());
      assertEquals(Status.CAP_HELD, refused.getStatus(), op.getKey() + ": " + refused);
      assertTrue(refused.getCapShared(), op.getKey());
      assertEquals(HOLDER, refused.getCapHolder(), op.getKey());
      assertEquals(op.getValue().dir(), refused.getCapDir(), op.getKey());
      assertEquals(before, ns.dump(), op.getKey() + " changed nothing");
      assertStatus(Status.OK, attempt(HOLDER, op.getValue().request().get()));
      assertStatus(Status.OK, attempt(0, op.getValue().request().get()));
    }
    // Reads go on; so do atime notes (relatime is advice) and changes outside.
    for (MetaRequest.Builder read : List.of(
        MetaRequest.newBuilder().setLookup(LookupOp.newBuilder().setParent(dir).setName("f")),
        MetaRequest.newBuilder().setReadDir(ReadDirOp.newBuilder().setInode(dir)),
        MetaRequest.newBuilder().setResolve(ResolveOp.newBuilder().setPath("/d/f")),
        MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(f)),
        MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder().setInode(f)
            .setValid(io.shoalfs.fs.AttrRules.SET_ACCESSED).setNowNs(ns.now())),
        MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder().setInode(outside)
            .setValid(NamespaceWrites.SET_MODE).setMode(0600).setNowNs(ns.now())))) {
      ok(attempt(OTHER, read));
    }
  }

  @Test
  void aSharedGiveBackLeavesTheSessionsExclusiveHolding() {
    ok(acquireShared(HOLDER, dir));
    ok(acquire(HOLDER, dir)); // a shared take and an exclusive take of one mount crossed
    ok(from(HOLDER, MetaRequest.newBuilder().setJournal(JournalOp.newBuilder()
        .addReleaseShared(dir))));
    assertEquals(HOLDER, capability(dir).getHolder(), "the exclusive holding stays");
    assertEquals(Status.CAP_HELD, acquireShared(OTHER, dir).getStatus(), "and keeps others out");
    ok(from(HOLDER, release(dir)));
    ok(acquireShared(OTHER, dir));
    ok(from(OTHER, MetaRequest.newBuilder().setJournal(JournalOp.newBuilder()
        .addReleaseShared(dir))));
    assertNull(capability(dir), "a reader's shared give-back ends its holding");
  }

  @Test
  void aFileCoveredByOneDirectoryIsTheOneItsOnlyNameIsIn() {
    long f = ns.file(ROOT, "f");
    long other = ns.dir(ROOT, "other");
    assertEquals(ROOT, ns.attr(f).getParent(), "made in the root");
    ok(ns.rename(ROOT, "f", dir, "f", 0));
    assertEquals(dir, ns.attr(f).getParent(), "moved: covered by its new directory");
    ok(acquireShared(HOLDER, dir));
    MetaRequest.Builder chmod = MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder()
        .setInode(f).setValid(NamespaceWrites.SET_MODE).setMode(0600).setNowNs(ns.now()));
    assertEquals(Status.CAP_HELD, attempt(OTHER, chmod).getStatus());
    ok(from(HOLDER, release(dir)));
    ok(ns.link(f, other, "second"));
    assertEquals(0, ns.attr(f).getParent(), "two names: no one directory covers it");
    ok(acquireShared(HOLDER, dir));
    ok(attempt(OTHER, chmod));
  }

  @Test
  void aRecallReachesEveryReaderAndASessionEndDropsOnlyItsOwn() {
    open(THIRD);
    ok(acquireShared(HOLDER, dir));
    ok(acquireShared(OTHER, dir));
    ok(ns.entry(recall(dir)));
    assertEquals(List.of(new EntryApplier.Recall(HOLDER, dir), new EntryApplier.Recall(OTHER, dir)),
        ns.recalls);
    assertEquals(List.of(dir), keepAlive(HOLDER).getRecalledDirsList());
    assertEquals(List.of(dir), keepAlive(OTHER).getRecalledDirsList());
    ok(from(OTHER, release(dir)));
    assertEquals(List.of(), keepAlive(OTHER).getRecalledDirsList());
    assertEquals(Status.CAP_HELD, attempt(THIRD, mknod(dir, "x")).getStatus(),
        "recalled is still held until given back");

    ok(from(HOLDER, MetaRequest.newBuilder().setCloseSession(CloseSessionOp.newBuilder())));
    assertNull(capability(dir), "the last reader's session took the record with it");
    assertEquals(0, keys(KeySchema.heldCapabilityPrefix(HOLDER)));
    ok(attempt(THIRD, mknod(dir, "x")));
  }

  // ------------------------------------------------------------------ helpers

  private void open(long client) {
    ok(from(client, MetaRequest.newBuilder().setOpenSession(OpenSessionOp.newBuilder().setNowNs(1))));
  }

  /** As a tracked request of {@code client}: its next sequence number, through the log. */
  private MetaResponse from(long client, MetaRequest.Builder request) {
    long seq = seqs.merge(client, 1L, Long::sum);
    return ns.entry(request.setClientId(client).setRequestSeq(seq));
  }

  private MetaResponse acquire(long client, long dir) {
    return from(client, MetaRequest.newBuilder()
        .setAcquireCapability(AcquireCapabilityOp.newBuilder().setDir(dir)));
  }

  private MetaResponse acquireShared(long client, long dir) {
    return from(client, MetaRequest.newBuilder()
        .setAcquireCapability(AcquireCapabilityOp.newBuilder().setDir(dir).setShared(true)));
  }

  private static MetaRequest.Builder release(long... dirs) {
    ReleaseCapabilityOp.Builder op = ReleaseCapabilityOp.newBuilder();
    for (long d : dirs) {
      op.addDirs(d);
    }
    return MetaRequest.newBuilder().setReleaseCapability(op);
  }

  private static MetaRequest.Builder recall(long dir) {
    return MetaRequest.newBuilder().setRecallCapability(RecallCapabilityOp.newBuilder().setDir(dir));
  }

  private MetaResponse keepAlive(long client) {
    return ok(from(client, MetaRequest.newBuilder()
        .setKeepAlive(KeepAliveOp.newBuilder().setNowNs(ns.now()))));
  }

  private MetaRequest.Builder mknod(long parent, String name) {
    return mknod(parent, name, FileType.REGULAR, false);
  }

  private MetaRequest.Builder mknod(long parent, String name, FileType type, boolean take) {
    return MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setParent(parent)
        .setName(name).setType(type).setMode(0755).setNowNs(ns.now()).setTakeCapability(take));
  }

  private MetaRequest.Builder rename(long srcParent, String src, long dstParent, String dst) {
    return MetaRequest.newBuilder().setRename(RenameOp.newBuilder().setSrcParent(srcParent)
        .setSrcName(src).setDstParent(dstParent).setDstName(dst).setNowNs(ns.now()));
  }

  private io.shoalfs.proto.CapabilityRecord capability(long dir) {
    return ns.kv.read(r -> new Capabilities(r).get(dir));
  }

  private io.shoalfs.proto.SessionRecord sessionOf(long client) {
    return ns.kv.read(r -> new Sessions(r).get(client));
  }

  private long keys(byte[] prefix) {
    return ns.kv.read(r -> {
      long[] count = {0};
      r.scan(prefix, prefix, (k, v) -> ++count[0] > 0);
      return count[0];
    });
  }
}
