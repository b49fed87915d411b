package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.NamespaceFixture.ROOT;
import static io.shoalfs.server.meta.NamespaceFixture.assertStatus;
import static io.shoalfs.server.meta.NamespaceFixture.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GarbageInode;
import io.shoalfs.proto.GetXattrOp;
import io.shoalfs.proto.ListGarbageOp;
import io.shoalfs.proto.ListXattrOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.ReadLinkOp;
import io.shoalfs.proto.RemoveXattrOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespaceTest {

  @TempDir Path tmp;
  NamespaceFixture ns;

  @BeforeEach
  void open() throws IOException {
    ns = new NamespaceFixture(tmp.resolve("db"));
  }

  @AfterEach
  void close() {
    ns.close();
  }

  // ------------------------------------------------------------------ root, create, lookup

  @Test
  void emptyStoreHasRootDirectory() {
    Attr root = ns.attr(ROOT);
    assertEquals(FileType.DIRECTORY, root.getType());
    assertEquals(0755, root.getMode());
    assertEquals(0, root.getUid());
    assertEquals(0, root.getGid());
    assertEquals(2, root.getNlink());
    assertEquals(1, stats());
  }

  @Test
  void createdFileIsFoundByLookupWithCallerOwnership() {
    MetaResponse created = ok(ns.mknod(ROOT, "a.txt", FileType.REGULAR, 0100644));
    Attr attr = created.getAttr();
    assertEquals(2, attr.getInode());
    assertEquals(0644, attr.getMode(), "type bits are stripped from mode");
    assertEquals(1000, attr.getUid());
    assertEquals(100, attr.getGid());
    assertEquals(1, attr.getNlink());
    assertEquals(attr, ok(ns.lookup(ROOT, "a.txt")).getAttr());
    assertEquals(attr.getCtimeNs(), ns.attr(ROOT).getMtimeNs(), "parent mtime follows the create");
    assertStatus(Status.ENOENT, ns.lookup(ROOT, "b.txt"));
    assertStatus(Status.ENOENT, ns.getAttr(99));
    assertEquals(2, stats());
  }

  @Test
  void createExistingNameIsEexist() {
    ns.file(ROOT, "x");
    assertStatus(Status.EEXIST, ns.mknod(ROOT, "x", FileType.REGULAR, 0644));
    assertStatus(Status.EEXIST, ns.mknod(ROOT, "x", FileType.DIRECTORY, 0755));
    assertStatus(Status.EEXIST, ns.symlink(ROOT, "x", "/t"));
  }

  @Test
  void createInNonDirectoryIsEnotdirAndInMissingParentIsEnoent() {
    long f = ns.file(ROOT, "f");
    assertStatus(Status.ENOTDIR, ns.mknod(f, "x", FileType.REGULAR, 0644));
    assertStatus(Status.ENOTDIR, ns.lookup(f, "x"));
    assertStatus(Status.ENOENT, ns.mknod(777, "x", FileType.REGULAR, 0644));
  }

  @Test
  void newDirectoryHasTwoLinksAndRaisesParentLinks() {
    long d = ns.dir(ROOT, "d");
    assertEquals(2, ns.attr(d).getNlink());
    assertEquals(3, ns.attr(ROOT).getNlink());
    ns.dir(d, "e");
    assertEquals(3, ns.attr(d).getNlink());
  }

  @Test
  void makeNodeCreatesSpecialFilesAndRefusesSymlinkType() {
    Attr fifo = ok(ns.mknod(ROOT, "fifo", FileType.FIFO, 0600)).getAttr();
    assertEquals(FileType.FIFO, fifo.getType());
    assertEquals(FileType.SOCKET, ok(ns.mknod(ROOT, "sock", FileType.SOCKET, 0600)).getAttr().getType());
    MetaResponse dev = ns.apply(MetaRequest.newBuilder().setMakeNode(io.shoalfs.proto.MakeNodeOp.newBuilder()
        .setParent(ROOT).setName("tty").setType(FileType.CHAR_DEVICE).setMode(0620).setRdev(0x0401)));
    assertEquals(0x0401, ok(dev).getAttr().getRdev());
    assertStatus(Status.EINVAL, ns.mknod(ROOT, "s", FileType.SYMLINK, 0777));
    assertStatus(Status.EINVAL, ns.mknod(ROOT, "u", FileType.FILE_TYPE_UNSPECIFIED, 0777));
  }

  @Test
  void setgidDirectoryGivesItsGroupAndPassesTheBitToSubdirectories() {
    long shared = ns.dir(ROOT, "shared");
    ok(setAttr(shared, b -> b.setValid(NamespaceWrites.SET_GID | NamespaceWrites.SET_MODE)
        .setGid(500).setMode(02775), Caller.newBuilder().setUid(0).build()));
    Attr file = ok(ns.mknod(shared, "f", FileType.REGULAR, 0644)).getAttr();
    assertEquals(500, file.getGid());
    assertEquals(0644, file.getMode());
    Attr sub = ok(ns.mknod(shared, "sub", FileType.DIRECTORY, 0755)).getAttr();
    assertEquals(500, sub.getGid());
    assertEquals(02755, sub.getMode());
  }

  // ------------------------------------------------------------------ names

  @Test
  void invalidNamesAreEinval() {
    for (String bad : List.of("", ".", "..", "a/b", "nul\0byte")) {
      assertStatus(Status.EINVAL, ns.mknod(ROOT, bad, FileType.REGULAR, 0644));
    }
  }

  @Test
  void nameOf255BytesIsAcceptedAnd256IsEnametoolong() {
    ok(ns.mknod(ROOT, "a".repeat(255), FileType.REGULAR, 0644));
    assertStatus(Status.ENAMETOOLONG, ns.mknod(ROOT, "b".repeat(256), FileType.REGULAR, 0644));
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    assertStatus(Status.ENAMETOOLONG, ns.mknod(ROOT, "é".repeat(128), FileType.REGULAR, 0644));
    ok(ns.mknod(ROOT, "é".repeat(127), FileType.REGULAR, 0644));
    assertStatus(Status.ENAMETOOLONG, ns.lookup(ROOT, "c".repeat(256)));
  }

  // ------------------------------------------------------------------ readdir

  @Test
  void readDirIsSortedByNameWithoutDotEntries() {
    for (String name : List.of("zeta", "alpha", "Mid", "beta")) {
      ns.file(ROOT, name);
    }
    ns.dir(ROOT, "dir");
    MetaResponse page = ok(ns.readDir(ROOT, "", 0));
    assertEquals(List.of("Mid", "alpha", "beta", "dir", "zeta"), ns.names(ROOT));
    assertFalse(page.getHasMore());
    assertEquals(FileType.DIRECTORY, page.getEntries(3).getType());
    assertEquals(ok(ns.lookup(ROOT, "dir")).getAttr().getInode(), page.getEntries(3).getInode());
  }

  @Test
  void readDirWithAttrsGivesEachEntrysAttributes() {
    long f = ns.file(ROOT, "f");
    long d = ns.dir(ROOT, "d");
    MetaResponse plain = ok(ns.readDir(ROOT, "", 0));
    assertFalse(plain.getEntries(0).hasAttr(), "only when asked");
    MetaResponse plus = ok(ns.read(MetaRequest.newBuilder().setReadDir(
        io.shoalfs.proto.ReadDirOp.newBuilder().setInode(ROOT).setWithAttrs(true))));
    assertEquals(ns.attr(d), plus.getEntries(0).getAttr());
    assertEquals(ns.attr(f), plus.getEntries(1).getAttr());
  }

  @Test
  void readDirPaginatesWithStartAfterAndHasMore() {
    for (int i = 0; i < 25; i++) {
      ns.file(ROOT, String.format("f%02d", i));
    }
    MetaResponse first = ok(ns.readDir(ROOT, "", 10));
    assertEquals(10, first.getEntriesCount());
    assertTrue(first.getHasMore());
    assertEquals("f09", first.getEntries(9).getName());
    MetaResponse second = ok(ns.readDir(ROOT, "f09", 10));
    assertEquals("f10", second.getEntries(0).getName());
    assertTrue(second.getHasMore());
    MetaResponse last = ok(ns.readDir(ROOT, "f19", 10));
    assertEquals(5, last.getEntriesCount());
    assertFalse(last.getHasMore());
    MetaResponse exact = ok(ns.readDir(ROOT, "f14", 10));
    assertEquals(10, exact.getEntriesCount());
    assertFalse(exact.getHasMore(), "no entry after the last one returned");
    // A start_after that is not itself an entry resumes at the next name.
    assertEquals("f10", ok(ns.readDir(ROOT, "f09x", 1)).getEntries(0).getName());
  }

  @Test
  void readDirOfFileIsEnotdir() {
    long f = ns.file(ROOT, "f");
    assertStatus(Status.ENOTDIR, ns.readDir(f, "", 0));
    assertStatus(Status.ENOENT, ns.readDir(4242, "", 0));
  }

  @Test
  void readDirDoesNotLeakIntoNeighbouringDirectory() {
    long a = ns.dir(ROOT, "a");
    long b = ns.dir(ROOT, "b");
    ns.file(b, "only-in-b");
    assertEquals(List.of(), ns.names(a));
    assertEquals(List.of("only-in-b"), ns.names(b));
  }

  // ------------------------------------------------------------------ resolve

  @Test
  void resolveWalksAbsolutePaths() {
    long a = ns.dir(ROOT, "a");
    long b = ns.dir(a, "b");
    long c = ns.file(b, "c");
    assertEquals(ROOT, ok(ns.resolve("/")).getAttr().getInode());
    assertEquals(c, ok(ns.resolve("/a/b/c")).getAttr().getInode());
    assertEquals(b, ok(ns.resolve("/a//b/")).getAttr().getInode());
    assertEquals(a, ok(ns.resolve("/a/b/..")).getAttr().getInode());
    assertStatus(Status.ENOENT, ns.resolve("/a/x/c"));
    assertStatus(Status.ENOTDIR, ns.resolve("/a/b/c/d"));
    assertStatus(Status.EINVAL, ns.resolve("a/b"));
  }

  // ------------------------------------------------------------------ symlink

  @Test
  void symlinkStoresTargetAndReadlinkReturnsIt() {
    Attr link = ok(ns.symlink(ROOT, "ln", "../some/where")).getAttr();
    assertEquals(FileType.SYMLINK, link.getType());
    assertEquals("../some/where".length(), link.getSize());
    assertEquals("../some/where", ok(readLink(link.getInode())).getTarget());
    long f = ns.file(ROOT, "f");
    assertStatus(Status.EINVAL, readLink(f));
    assertStatus(Status.ENOENT, ns.symlink(ROOT, "empty", ""));
  }

  // ------------------------------------------------------------------ link, unlink

  @Test
  void hardLinkRaisesNlinkAndUnlinkLowersIt() {
    long f = ns.file(ROOT, "f");
    long d = ns.dir(ROOT, "d");
    Attr linked = ok(ns.link(f, d, "g")).getAttr();
    assertEquals(2, linked.getNlink());
    assertEquals(f, ok(ns.lookup(d, "g")).getAttr().getInode());
    MetaResponse first = ok(ns.unlink(ROOT, "f"));
    assertEquals(0, first.getFreedInode());
    assertEquals(1, ns.attr(f).getNlink());
    assertEquals(List.of(), garbage());
  }

  @Test
  void linkRefusals() {
    long f = ns.file(ROOT, "f");
    long d = ns.dir(ROOT, "d");
    assertStatus(Status.EPERM, ns.link(d, ROOT, "d2"));
    assertStatus(Status.EEXIST, ns.link(f, ROOT, "d"));
    assertStatus(Status.ENOTDIR, ns.link(f, f, "x"));
    assertStatus(Status.ENOENT, ns.link(999, ROOT, "x"));
  }

  @Test
  void unlinkOfLastLinkFreesInode() {
    long f = ns.file(ROOT, "f");
    ok(commitWrite(f, 4096));
    ok(ns.setXattr(f, "user.k", new byte[] {1}, 0));
    MetaResponse removed = ok(ns.unlink(ROOT, "f"));
    assertEquals(f, removed.getFreedInode());
    assertStatus(Status.ENOENT, ns.getAttr(f));
    assertStatus(Status.ENOENT, ns.lookup(ROOT, "f"));
    // The chunk map lists no chunk of it (ChunkMapTest covers files with chunks): no record
    // for the data nodes' reapers to page through.
    assertEquals(List.of(), garbage());
    assertEquals(1, stats());
    int xattrKeys = ns.kv.read(reader -> {
      int[] count = {0};
      reader.scan(KeySchema.xattrPrefix(f), KeySchema.xattrPrefix(f), (k, v) -> ++count[0] > 0);
      return count[0];
    });
    assertEquals(0, xattrKeys, "xattrs of a freed inode are gone");
  }

  @Test
  void unlinkOfSymlinkFreesWithoutGarbage() {
    long l = ok(ns.symlink(ROOT, "l", "t")).getAttr().getInode();
    assertEquals(l, ok(ns.unlink(ROOT, "l")).getFreedInode());
    assertEquals(List.of(), garbage());
  }

  @Test
  void unlinkRefusals() {
    ns.dir(ROOT, "d");
    assertStatus(Status.EISDIR, ns.unlink(ROOT, "d"));
    assertStatus(Status.ENOENT, ns.unlink(ROOT, "nope"));
  }

  // ------------------------------------------------------------------ rmdir

  @Test
  void rmdirRemovesEmptyDirectoryAndLowersParentLinks() {
    long d = ns.dir(ROOT, "d");
    assertEquals(3, ns.attr(ROOT).getNlink());
    assertEquals(d, ok(ns.rmdir(ROOT, "d")).getFreedInode());
    assertEquals(2, ns.attr(ROOT).getNlink());
    assertStatus(Status.ENOENT, ns.getAttr(d));
    assertEquals(List.of(), garbage(), "directories have no data to reclaim");
  }

  @Test
  void rmdirRefusals() {
    long d = ns.dir(ROOT, "d");
    ns.file(d, "f");
    ns.file(ROOT, "plain");
    assertStatus(Status.ENOTEMPTY, ns.rmdir(ROOT, "d"));
    assertStatus(Status.ENOTDIR, ns.rmdir(ROOT, "plain"));
    assertStatus(Status.ENOENT, ns.rmdir(ROOT, "nope"));
  }

  // ------------------------------------------------------------------ changes in answers

  /** Every inode an answer lists as changed or freed, checked against the store. */
  private List<Long> listedChanges(MetaResponse r) {
    assertTrue(r.getChangesListed(), "a successful mutation lists its changes");
    for (Attr changed : r.getChangedList()) {
      assertEquals(ns.attr(changed.getInode()), changed, "listed as the store has it");
    }
    for (long freed : r.getFreedList()) {
      assertStatus(Status.ENOENT, ns.getAttr(freed));
    }
    List<Long> inodes = new java.util.ArrayList<>(
        r.getChangedList().stream().map(Attr::getInode).toList());
    inodes.addAll(r.getFreedList().stream().map(i -> -i).toList()); // freed ones negated
    return inodes;
  }

  @Test
  void mutationsListEveryOtherAttributeTheyChangedAndEveryInodeTheyFreed() {
    long d = ns.dir(ROOT, "d");
    MetaResponse made = ok(ns.mknod(d, "f", FileType.REGULAR, 0644));
    long f = made.getAttr().getInode();
    assertEquals(List.of(d), listedChanges(made), "the parent, not the new inode itself");
    assertEquals(List.of(ROOT), listedChanges(ok(ns.link(f, ROOT, "g"))));
    long h = ns.file(ROOT, "h");
    // d/f over h: both parents, the replaced h freed; the moved inode is the answer's attr.
    MetaResponse renamed = ok(ns.rename(d, "f", ROOT, "h", 0));
    assertEquals(f, renamed.getAttr().getInode());
    assertEquals(java.util.Set.of(d, ROOT, -h), java.util.Set.copyOf(listedChanges(renamed)));
    // One of f's two names goes: f (nlink 1 now) and the parent change.
    assertEquals(java.util.Set.of(ROOT, f), java.util.Set.copyOf(listedChanges(ok(ns.unlink(ROOT, "g")))));
    assertEquals(java.util.Set.of(ROOT, -f), java.util.Set.copyOf(listedChanges(ok(ns.unlink(ROOT, "h")))));
    assertEquals(java.util.Set.of(ROOT, -d), java.util.Set.copyOf(listedChanges(ok(ns.rmdir(ROOT, "d")))));
    assertFalse(ns.unlink(ROOT, "nope").getChangesListed(), "a refusal changed nothing to list");
  }

  // ------------------------------------------------------------------ rename

  @Test
  void renameFileWithinAndAcrossDirectories() {
    long f = ns.file(ROOT, "f");
    long d = ns.dir(ROOT, "d");
    Attr moved = ok(ns.rename(ROOT, "f", ROOT, "g", 0)).getAttr();
    assertEquals(f, moved.getInode());
    assertStatus(Status.ENOENT, ns.lookup(ROOT, "f"));
    ok(ns.rename(ROOT, "g", d, "h", 0));
    assertEquals(f, ok(ns.lookup(d, "h")).getAttr().getInode());
    assertEquals(List.of("d"), ns.names(ROOT));
    assertEquals(3, ns.attr(ROOT).getNlink(), "moving a file does not touch parent links");
  }

  @Test
  void renameOverExistingFileReplacesItAndFreesTheTarget() {
    long a = ns.file(ROOT, "a");
    long b = ns.file(ROOT, "b");
    MetaResponse r = ok(ns.rename(ROOT, "a", ROOT, "b", 0));
    assertEquals(b, r.getFreedInode());
    assertEquals(a, ok(ns.lookup(ROOT, "b")).getAttr().getInode());
    assertStatus(Status.ENOENT, ns.getAttr(b));
    assertEquals(2, stats());
  }

  @Test
  void renameOverFileWithOtherLinksOnlyDropsOneLink() {
    long a = ns.file(ROOT, "a");
    long b = ns.file(ROOT, "b");
    ok(ns.link(b, ROOT, "b2"));
    MetaResponse r = ok(ns.rename(ROOT, "a", ROOT, "b", 0));
    assertEquals(0, r.getFreedInode());
    assertEquals(1, ns.attr(b).getNlink());
    assertEquals(a, ok(ns.lookup(ROOT, "b")).getAttr().getInode());
  }

  @Test
  void renameDirectoryMovesParentLinks() {
    long a = ns.dir(ROOT, "a");
    long b = ns.dir(ROOT, "b");
    long sub = ns.dir(a, "sub");
    assertEquals(3, ns.attr(a).getNlink());
    ok(ns.rename(a, "sub", b, "sub", 0));
    assertEquals(2, ns.attr(a).getNlink());
    assertEquals(3, ns.attr(b).getNlink());
    assertEquals(b, ok(ns.resolve("/b/sub/..")).getAttr().getInode(), "'..' follows the move");
    assertEquals(sub, ok(ns.resolve("/b/sub")).getAttr().getInode());
  }

  @Test
  void renameDirectoryOverEmptyDirectoryReplacesIt() {
    long a = ns.dir(ROOT, "a");
    long b = ns.dir(ROOT, "b");
    assertEquals(4, ns.attr(ROOT).getNlink());
    MetaResponse r = ok(ns.rename(ROOT, "a", ROOT, "b", 0));
    assertEquals(b, r.getFreedInode());
    assertEquals(a, ok(ns.lookup(ROOT, "b")).getAttr().getInode());
    assertEquals(3, ns.attr(ROOT).getNlink());
    assertStatus(Status.ENOENT, ns.getAttr(b));
  }

  @Test
  void renameDirectoryOverEmptyDirectoryInAnotherParent() {
    long p = ns.dir(ROOT, "p");
    long q = ns.dir(ROOT, "q");
    ns.dir(p, "a");
    ns.dir(q, "b");
    ok(ns.rename(p, "a", q, "b", 0));
    assertEquals(2, ns.attr(p).getNlink());
    assertEquals(3, ns.attr(q).getNlink());
  }

  @Test
  void renameRefusals() {
    long a = ns.dir(ROOT, "a");
    long full = ns.dir(ROOT, "full");
    ns.file(full, "x");
    ns.file(ROOT, "f");
    assertStatus(Status.ENOTEMPTY, ns.rename(ROOT, "a", ROOT, "full", 0));
    assertStatus(Status.ENOTDIR, ns.rename(ROOT, "a", ROOT, "f", 0));
    assertStatus(Status.EISDIR, ns.rename(ROOT, "f", ROOT, "a", 0));
    assertStatus(Status.ENOENT, ns.rename(ROOT, "missing", ROOT, "z", 0));
    assertStatus(Status.EINVAL, ns.rename(ROOT, "f", ROOT, "bad/name", 0));
    assertStatus(Status.EEXIST, ns.rename(ROOT, "f", full, "x", Rename.RENAME_NOREPLACE));
    assertStatus(Status.ENOTSUP, ns.rename(ROOT, "f", full, "x", Rename.RENAME_EXCHANGE));
    assertStatus(Status.EINVAL, ns.rename(ROOT, "f", full, "x", 3));
    ok(ns.rename(ROOT, "f", ROOT, "g", Rename.RENAME_NOREPLACE));
    assertEquals(List.of("a", "full", "g"), ns.names(ROOT));
    assertEquals(2, ns.attr(a).getNlink());
  }

  @Test
  void renameIntoOwnSubtreeIsEinval() {
    long a = ns.dir(ROOT, "a");
    long b = ns.dir(a, "b");
    long c = ns.dir(b, "c");
    assertStatus(Status.EINVAL, ns.rename(ROOT, "a", c, "a", 0));
    assertStatus(Status.EINVAL, ns.rename(ROOT, "a", a, "self", 0));
    assertStatus(Status.EINVAL, ns.rename(a, "b", c, "x", 0));
    // A sibling subtree is fine.
    long other = ns.dir(ROOT, "other");
    ok(ns.rename(ROOT, "a", other, "a", 0));
    assertEquals(c, ok(ns.resolve("/other/a/b/c")).getAttr().getInode());
  }

  @Test
  void renameOntoAnotherLinkOfTheSameInodeIsANoOp() {
    long f = ns.file(ROOT, "f");
    ok(ns.link(f, ROOT, "g"));
    List<String> before = ns.dump();
    ok(ns.rename(ROOT, "f", ROOT, "g", 0));
    ok(ns.rename(ROOT, "f", ROOT, "f", 0));
    assertEquals(before, ns.dump());
  }

  @Test
  void failedRenameChangesNothing() {
    ns.dir(ROOT, "a");
    long full = ns.dir(ROOT, "full");
    ns.file(full, "x");
    List<String> before = ns.dump();
    assertStatus(Status.ENOTEMPTY, ns.rename(ROOT, "a", ROOT, "full", 0));
    assertEquals(before, ns.dump());
  }

  // ------------------------------------------------------------------ setattr, commit

  @Test
  void aSetAttrCarryingACommitAppliesBothOrNeither() {
    long f = ns.file(ROOT, "f");
    Attr set = ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_MTIME).setMtimeNs(42)
        .setCommit(commitOf(f, 470)), NamespaceFixture.USER)).getAttr();
    assertEquals(470, set.getSize(), "the commit applied");
    assertEquals(42, set.getMtimeNs(), "then the times, which win over the commit's");
    assertEquals(set, ns.attr(f));

    long g = ns.file(ROOT, "g");
    assertStatus(Status.EISDIR, setAttr(ROOT, b -> b.setValid(NamespaceWrites.SET_SIZE)
        .setCommit(commitOf(ROOT, 100)), NamespaceFixture.USER));
    assertStatus(Status.EINVAL, setAttr(g, b -> b.setValid(NamespaceWrites.SET_MODE).setMode(0600)
        .setCommit(commitOf(f, 100)), NamespaceFixture.USER));
    assertEquals(470, ns.attr(f).getSize(), "another inode's commit is refused");
  }

  @Test
  void aRefusedSetAttrTakesItsCommitWithIt() throws IOException {
    try (NamespaceFixture strict = new NamespaceFixture(tmp.resolve("strict"), new ModePermissions())) {
      long f = ok(strict.apply(MetaRequest.newBuilder().setCaller(Caller.newBuilder().setUid(0))
          .setMakeNode(io.shoalfs.proto.MakeNodeOp.newBuilder().setParent(ROOT).setName("f")
              .setType(FileType.REGULAR).setMode(0666)))).getAttr().getInode();
      Caller stranger = Caller.newBuilder().setUid(2000).setGid(200).build();
      assertStatus(Status.EPERM, strict.apply(MetaRequest.newBuilder().setCaller(stranger)
          .setSetAttr(SetAttrOp.newBuilder().setInode(f).setValid(NamespaceWrites.SET_MODE)
              .setMode(0600).setCommit(CommitWriteOp.newBuilder().setInode(f).setEndOffset(100)))));
      assertEquals(0, strict.attr(f).getSize(), "the commit applied first, then went with the refusal");
    }
  }

  private CommitWriteOp commitOf(long ino, long end) {
    return CommitWriteOp.newBuilder().setInode(ino).setEndOffset(end).setNowNs(ns.now()).build();
  }

  @Test
  void anAccessIsNotedByRelatimeAndANoteOlderThanTheLastChangeIsDropped() {
    long f = ns.file(ROOT, "f");
    commitWrite(f, 10); // mtime and ctime after the create's atime: a read is due a note
    long readAt = ns.now();
    Attr noted = ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_ACCESSED).setNowNs(readAt),
        NamespaceFixture.USER)).getAttr();
    assertEquals(readAt, noted.getAtimeNs());
    ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_ACCESSED).setNowNs(ns.now()),
        NamespaceFixture.USER));
    assertEquals(readAt, ns.attr(f).getAtimeNs(), "atime after mtime and ctime: nothing to note");

    // A note taken before explicit times were set, arriving after them, leaves them alone.
    long lateNote = ns.now();
    ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_ATIME | NamespaceWrites.SET_MTIME)
        .setAtimeNs(42).setMtimeNs(43), NamespaceFixture.USER));
    ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_ACCESSED).setNowNs(lateNote),
        NamespaceFixture.USER));
    assertEquals(42, ns.attr(f).getAtimeNs());
  }

  @Test
  void setAttrAppliesOnlyMaskedFieldsAndAlwaysCtime() {
    long f = ns.file(ROOT, "f");
    Attr before = ns.attr(f);
    Attr after = ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_MODE).setMode(0600)
        .setUid(7).setSize(99).setNowNs(5_000_000_000L), NamespaceFixture.USER)).getAttr();
    assertEquals(0600, after.getMode());
    assertEquals(before.getUid(), after.getUid(), "uid not in mask");
    assertEquals(0, after.getSize(), "size not in mask");
    assertEquals(5_000_000_000L, after.getCtimeNs());
    assertEquals(before.getMtimeNs(), after.getMtimeNs());

    Attr times = ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_ATIME | NamespaceWrites.SET_MTIME_NOW)
        .setAtimeNs(42).setMtimeNs(43).setNowNs(6_000_000_000L), NamespaceFixture.USER)).getAttr();
    assertEquals(42, times.getAtimeNs());
    assertEquals(6_000_000_000L, times.getMtimeNs());

    Attr sized = ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_SIZE).setSize(12345)
        .setNowNs(7_000_000_000L), NamespaceFixture.USER)).getAttr();
    assertEquals(12345, sized.getSize());
    assertEquals(7_000_000_000L, sized.getMtimeNs());
    assertEquals(sized, ns.attr(f));
  }

  @Test
  void setAttrSizeOnDirectoryIsEisdir() {
    long d = ns.dir(ROOT, "d");
    assertStatus(Status.EISDIR, setAttr(d, b -> b.setValid(NamespaceWrites.SET_SIZE).setSize(1),
        NamespaceFixture.USER));
    assertStatus(Status.ENOENT, setAttr(1234, b -> b.setValid(NamespaceWrites.SET_MODE),
        NamespaceFixture.USER));
  }

  @Test
  void chownOfRegularFileClearsSetuidAndExecutableSetgid() {
    long f = ns.file(ROOT, "f");
    Caller root = Caller.newBuilder().setUid(0).build();
    ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_MODE).setMode(06755), root));
    Attr owned = ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_UID).setUid(5), root)).getAttr();
    assertEquals(5, owned.getUid());
    assertEquals(0755, owned.getMode());
    // Setgid without group-exec marks mandatory locking: chown keeps it.
    ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_MODE).setMode(02644), root));
    assertEquals(02644, ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_GID).setGid(9), root))
        .getAttr().getMode());
  }

  @Test
  void chmodBySomeoneOutsideTheGroupDropsSetgid() {
    long f = ns.file(ROOT, "f");
    Caller stranger = Caller.newBuilder().setUid(1000).setGid(555).build();
    assertEquals(0755, ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_MODE).setMode(02755), stranger))
        .getAttr().getMode());
    Caller member = Caller.newBuilder().setUid(1000).setGid(1).addGroups(100).build();
    assertEquals(02755, ok(setAttr(f, b -> b.setValid(NamespaceWrites.SET_MODE).setMode(02755), member))
        .getAttr().getMode());
  }

  @Test
  void commitWriteGrowsSizeOnlyAndSetsTimes() {
    long f = ns.file(ROOT, "f");
    assertEquals(100, ok(commitWrite(f, 100)).getAttr().getSize());
    Attr after = ok(commitWrite(f, 50)).getAttr();
    assertEquals(100, after.getSize());
    assertEquals(after.getMtimeNs(), after.getCtimeNs());
    assertEquals(ns.clock, after.getMtimeNs());
    long d = ns.dir(ROOT, "d");
    assertStatus(Status.EISDIR, commitWrite(d, 1));
  }

  // ------------------------------------------------------------------ xattr

  @Test
  void xattrCreateReplaceAndRemove() {
    long f = ns.file(ROOT, "f");
    ok(ns.setXattr(f, "user.b", new byte[] {2}, NamespaceWrites.XATTR_CREATE));
    assertStatus(Status.EEXIST, ns.setXattr(f, "user.b", new byte[] {3}, NamespaceWrites.XATTR_CREATE));
    assertStatus(Status.ENODATA, ns.setXattr(f, "user.a", new byte[] {3}, NamespaceWrites.XATTR_REPLACE));
    ok(ns.setXattr(f, "user.b", new byte[] {4}, NamespaceWrites.XATTR_REPLACE));
    ok(ns.setXattr(f, "user.a", new byte[] {1}, 0));
    assertArrayEquals(new byte[] {4}, ok(getXattr(f, "user.b")).getValue().toByteArray());
    assertEquals(List.of("user.a", "user.b"), ok(ns.read(MetaRequest.newBuilder()
        .setListXattr(ListXattrOp.newBuilder().setInode(f)))).getNamesList());
    ok(removeXattr(f, "user.b"));
    assertStatus(Status.ENODATA, removeXattr(f, "user.b"));
    assertStatus(Status.ENODATA, getXattr(f, "user.b"));
    assertStatus(Status.ENOENT, getXattr(999, "user.b"));
  }

  @Test
  void xattrLimits() {
    long f = ns.file(ROOT, "f");
    ok(ns.setXattr(f, "user." + "n".repeat(250), new byte[0], 0));
    assertStatus(Status.ERANGE, ns.setXattr(f, "user." + "n".repeat(251), new byte[0], 0));
    ok(ns.setXattr(f, "user.big", new byte[64 * 1024], 0));
    assertStatus(Status.E2BIG, ns.setXattr(f, "user.big", new byte[64 * 1024 + 1], 0));
    assertStatus(Status.EINVAL, ns.setXattr(f, "user.x", new byte[0], 3));
  }

  @Test
  void xattrNamespacesNotStoredVerbatimAreRefused() {
    long f = ns.file(ROOT, "f");
    ok(ns.setXattr(f, "trusted.t", new byte[] {1}, 0));
    ok(ns.setXattr(f, "security.s", new byte[] {1}, 0));
    // cp -a sets modes through system.posix_acl_access; keeping it as bytes would lose the mode.
    assertStatus(Status.ENOTSUP, ns.setXattr(f, "system.posix_acl_access", new byte[] {2}, 0));
    assertStatus(Status.ENOTSUP, ns.setXattr(f, "noprefix", new byte[] {1}, 0));
    assertStatus(Status.ENOTSUP, ns.setXattr(f, "user.", new byte[] {1}, 0));
  }

  // ------------------------------------------------------------------ determinism

  @Test
  void aFailedRequestInASharedBatchUndoesOnlyItsOwnWrites() {
    // A group-committed entry: three creates in one RocksDB batch, the middle one refused.
    MetaResponse first;
    MetaResponse clash;
    MetaResponse third;
    try (KvBatch batch = ns.kv.newBatch()) {
      first = ns.namespace.apply(mknodRequest("a").build(), batch);
      clash = ns.namespace.apply(mknodRequest("a").build(), batch);
      third = ns.namespace.apply(mknodRequest("b").build(), batch);
      ns.kv.commit(batch);
    }
    assertEquals(Status.OK, first.getStatus());
    assertEquals(Status.EEXIST, clash.getStatus());
    assertEquals(Status.OK, third.getStatus());
    assertEquals(first.getAttr().getInode(), ok(ns.lookup(ROOT, "a")).getAttr().getInode());
    assertEquals(first.getAttr().getInode() + 1, third.getAttr().getInode(),
        "the refused create took no inode number");
    assertEquals(3, ok(ns.read(MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()))).getInodeCount());
  }

  private MetaRequest.Builder mknodRequest(String name) {
    return MetaRequest.newBuilder().setCaller(NamespaceFixture.USER).setMakeNode(MakeNodeOp.newBuilder()
        .setParent(ROOT).setName(name).setType(FileType.REGULAR).setMode(0644)
        .setNowNs(ns.now()));
  }

  @Test
  void sameOperationsOnTwoFreshStoresGiveIdenticalBytes(@TempDir Path other) throws IOException {
    try (NamespaceFixture twin = new NamespaceFixture(other.resolve("db"))) {
      for (NamespaceFixture n : List.of(ns, twin)) {
        long d = n.dir(ROOT, "d");
        long f = n.file(d, "f");
        n.link(f, ROOT, "hard");
        n.symlink(ROOT, "s", "d/f");
        n.setXattr(f, "user.k", new byte[] {9}, 0);
        n.rename(d, "f", ROOT, "moved", 0);
        n.unlink(ROOT, "hard");
        n.file(ROOT, "victim");
        n.rename(ROOT, "moved", ROOT, "victim", 0);
        n.rmdir(ROOT, "d");
      }
      assertEquals(ns.dump(), twin.dump());
      assertNotEquals(List.of(), ns.dump());
    }
  }

  // ------------------------------------------------------------------ helpers

  private long stats() {
    return ok(ns.read(MetaRequest.newBuilder().setNamespaceStats(NamespaceStatsOp.getDefaultInstance())))
        .getInodeCount();
  }

  private List<GarbageInode> garbage() {
    return ok(ns.read(MetaRequest.newBuilder().setListGarbage(ListGarbageOp.getDefaultInstance())))
        .getGarbageList();
  }

  private MetaResponse readLink(long ino) {
    return ns.read(MetaRequest.newBuilder().setReadLink(ReadLinkOp.newBuilder().setInode(ino)));
  }

  private MetaResponse getXattr(long ino, String name) {
    return ns.read(MetaRequest.newBuilder().setGetXattr(GetXattrOp.newBuilder().setInode(ino).setName(name)));
  }

  private MetaResponse removeXattr(long ino, String name) {
    return ns.apply(MetaRequest.newBuilder().setRemoveXattr(RemoveXattrOp.newBuilder()
        .setInode(ino).setName(name).setNowNs(ns.now())));
  }

  private MetaResponse commitWrite(long ino, long end) {
    return ns.apply(MetaRequest.newBuilder().setCommitWrite(CommitWriteOp.newBuilder()
        .setInode(ino).setEndOffset(end).setNowNs(ns.now())));
  }

  private MetaResponse setAttr(long ino, Consumer<SetAttrOp.Builder> fill, Caller caller) {
    SetAttrOp.Builder b = SetAttrOp.newBuilder().setInode(ino).setNowNs(ns.now());
    fill.accept(b);
    return ns.apply(MetaRequest.newBuilder().setCaller(caller).setSetAttr(b));
  }
}
