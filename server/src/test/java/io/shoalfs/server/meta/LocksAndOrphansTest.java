package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.NamespaceFixture.ROOT;
import static io.shoalfs.server.meta.NamespaceFixture.assertStatus;
import static io.shoalfs.server.meta.NamespaceFixture.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.AppendOp;
import io.shoalfs.proto.GetLockOp;
import io.shoalfs.proto.KeepAliveOp;
import io.shoalfs.proto.LockKind;
import io.shoalfs.proto.LockType;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReleaseOrphanOp;
import io.shoalfs.proto.SetLockOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Advisory locks, O_APPEND reservations and orphans (open files whose last link went away). */
class LocksAndOrphansTest {

  @TempDir Path dir;
  NamespaceFixture ns;
  long file;

  @BeforeEach
  void setUp() throws Exception {
    ns = new NamespaceFixture(dir);
    file = ns.file(ROOT, "f");
  }

  @AfterEach
  void tearDown() {
    ns.close();
  }

  MetaResponse lock(long client, long owner, LockKind kind, LockType type, long start, long end,
      long now) {
    return ns.apply(MetaRequest.newBuilder().setClientId(client).setRequestSeq(ns.now())
        .setSetLock(SetLockOp.newBuilder().setInode(file).setOwner(owner).setKind(kind)
            .setType(type).setStart(start).setEnd(end).setPid(42).setNowNs(now)));
  }

  MetaResponse posix(long client, long owner, LockType type, long start, long end) {
    return lock(client, owner, LockKind.POSIX, type, start, end, 1_000);
  }

  @Test
  void writeLocksExcludeAndReadLocksShare() {
    ok(posix(1, 10, LockType.WRITE_LOCK, 0, 100));
    MetaResponse refused = posix(2, 20, LockType.WRITE_LOCK, 50, 60);
    assertStatus(Status.EAGAIN, refused);
    assertEquals(0, refused.getConflict().getStart());
    assertEquals(100, refused.getConflict().getEnd());
    ok(posix(2, 20, LockType.WRITE_LOCK, 100, 0)); // adjacent, to EOF
    assertStatus(Status.EAGAIN, posix(1, 11, LockType.READ_LOCK, 5000, 5001));
    ok(posix(2, 20, LockType.UNLOCK, 0, 0));
    ok(posix(1, 11, LockType.READ_LOCK, 5000, 5001));
    ok(posix(2, 20, LockType.READ_LOCK, 5000, 0));
    assertStatus(Status.EAGAIN, posix(2, 20, LockType.WRITE_LOCK, 5000, 0));
  }

  @Test
  void unlockingTheMiddleSplitsALock() {
    ok(posix(1, 10, LockType.WRITE_LOCK, 0, 300));
    ok(posix(1, 10, LockType.UNLOCK, 100, 200));
    ok(posix(2, 20, LockType.WRITE_LOCK, 100, 200));
    assertStatus(Status.EAGAIN, posix(2, 20, LockType.WRITE_LOCK, 250, 260));
    assertStatus(Status.EAGAIN, posix(2, 20, LockType.WRITE_LOCK, 50, 60));
  }

  @Test
  void flockAndPosixLocksAreIndependent() {
    ok(lock(1, 10, LockKind.FLOCK, LockType.WRITE_LOCK, 0, 0, 1_000));
    ok(posix(2, 20, LockType.WRITE_LOCK, 0, 0));
    assertStatus(Status.EAGAIN, lock(2, 20, LockKind.FLOCK, LockType.READ_LOCK, 0, 0, 1_000));
  }

  @Test
  void getLockReportsTheConflictOfALiveOwnerOnly() {
    ok(posix(1, 10, LockType.WRITE_LOCK, 0, 100));
    MetaResponse r = ns.read(MetaRequest.newBuilder().setGetLock(GetLockOp.newBuilder()
        .setInode(file).setOwner(20).setClientId(2).setKind(LockKind.POSIX)
        .setType(LockType.READ_LOCK).setStart(10).setEnd(11).setNowNs(2_000)));
    assertTrue(r.hasConflict());
    assertEquals(42, r.getConflict().getPid());
    r = ns.read(MetaRequest.newBuilder().setGetLock(GetLockOp.newBuilder()
        .setInode(file).setOwner(20).setClientId(2).setKind(LockKind.POSIX)
        .setType(LockType.READ_LOCK).setStart(10).setEnd(11)
        .setNowNs(1_000 + Locks.SESSION_TTL_NS + 1)));
    assertFalse(r.hasConflict());
  }

  @Test
  void locksOfASilentClientLapseKeepAlivesKeepThem() {
    ok(lock(1, 10, LockKind.FLOCK, LockType.WRITE_LOCK, 0, 0, 1_000));
    long later = 1_000 + Locks.SESSION_TTL_NS - 5;
    ok(ns.apply(MetaRequest.newBuilder().setClientId(1).setRequestSeq(99)
        .setKeepAlive(KeepAliveOp.newBuilder().setNowNs(later))));
    assertStatus(Status.EAGAIN,
        lock(2, 20, LockKind.FLOCK, LockType.WRITE_LOCK, 0, 0, later + 10));
    ok(lock(2, 20, LockKind.FLOCK, LockType.WRITE_LOCK, 0, 0, later + Locks.SESSION_TTL_NS + 1));
    assertStatus(Status.EAGAIN,
        lock(1, 10, LockKind.FLOCK, LockType.WRITE_LOCK, 0, 0, later + Locks.SESSION_TTL_NS + 2));
  }

  @Test
  void badLockRequestsAreEinval() {
    assertStatus(Status.EINVAL, posix(1, 10, LockType.WRITE_LOCK, 100, 50));
    assertStatus(Status.EINVAL, lock(1, 10, LockKind.LOCK_KIND_UNSPECIFIED, LockType.WRITE_LOCK,
        0, 0, 1));
  }

  @Test
  void appendReservesDistinctRangesAtTheEnd() {
    MetaResponse a = ok(ns.apply(MetaRequest.newBuilder().setAppend(
        AppendOp.newBuilder().setInode(file).setLength(10).setNowNs(ns.now()))));
    MetaResponse b = ok(ns.apply(MetaRequest.newBuilder().setAppend(
        AppendOp.newBuilder().setInode(file).setLength(5).setNowNs(ns.now()))));
    assertEquals(0, a.getOffset());
    assertEquals(10, b.getOffset());
    assertEquals(15, ns.attr(file).getSize());
    assertStatus(Status.EISDIR, ns.apply(MetaRequest.newBuilder().setAppend(
        AppendOp.newBuilder().setInode(ROOT).setLength(1).setNowNs(ns.now()))));
  }

  @Test
  void anOpenFileUnlinkedKeepsItsInodeUntilReleased() {
    ok(ns.apply(MetaRequest.newBuilder().setClientId(7).setRequestSeq(1).setUnlink(
        UnlinkOp.newBuilder().setParent(ROOT).setName("f").setKeepOpen(true).setNowNs(ns.now()))));
    assertStatus(Status.ENOENT, ns.lookup(ROOT, "f"));
    assertEquals(0, ns.attr(file).getNlink());
    assertTrue(ns.names(ROOT).isEmpty());
    MetaResponse r = ok(ns.apply(MetaRequest.newBuilder().setClientId(7).setRequestSeq(2)
        .setReleaseOrphan(ReleaseOrphanOp.newBuilder().setInode(file))));
    assertEquals(file, r.getFreedInode());
    assertStatus(Status.ENOENT, ns.getAttr(file));
  }

  @Test
  void keepOpenWithOtherLinksJustDropsOne() {
    ok(ns.link(file, ROOT, "g"));
    ok(ns.apply(MetaRequest.newBuilder().setClientId(7).setRequestSeq(1).setUnlink(
        UnlinkOp.newBuilder().setParent(ROOT).setName("f").setKeepOpen(true).setNowNs(ns.now()))));
    assertEquals(1, ns.attr(file).getNlink());
    MetaResponse r = ok(ns.apply(MetaRequest.newBuilder().setClientId(7).setRequestSeq(2)
        .setReleaseOrphan(ReleaseOrphanOp.newBuilder().setInode(file))));
    assertEquals(0, r.getFreedInode());
    assertEquals(1, ns.attr(file).getNlink());
  }
}
