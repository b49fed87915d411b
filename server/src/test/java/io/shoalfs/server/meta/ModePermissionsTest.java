package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.NamespaceFixture.ROOT;
import static io.shoalfs.server.meta.NamespaceFixture.assertStatus;
import static io.shoalfs.server.meta.NamespaceFixture.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Linux permission rules the servers enforce, against a real store. */
class ModePermissionsTest {

  static final Caller ROOT_CALLER = Caller.newBuilder().setUid(0).setGid(0).build();
  static final Caller ALICE = Caller.newBuilder().setUid(1001).setGid(100).build();
  static final Caller BOB = Caller.newBuilder().setUid(1002).setGid(200).addGroups(4242).build();

  @TempDir Path dir;
  NamespaceFixture ns;

  @BeforeEach
  void setUp() throws Exception {
    ns = new NamespaceFixture(dir, new ModePermissions());
  }

  @AfterEach
  void tearDown() {
    ns.close();
  }

  MetaResponse mknod(Caller who, long parent, String name, FileType type, int mode) {
    return ns.apply(MetaRequest.newBuilder().setCaller(who).setMakeNode(MakeNodeOp.newBuilder()
        .setParent(parent).setName(name).setType(type).setMode(mode).setNowNs(ns.now())));
  }

  MetaResponse setAttr(Caller who, long ino, SetAttrOp.Builder op) {
    return ns.apply(MetaRequest.newBuilder().setCaller(who)
        .setSetAttr(op.setInode(ino).setNowNs(ns.now())));
  }

  MetaResponse unlink(Caller who, long parent, String name) {
    return ns.apply(MetaRequest.newBuilder().setCaller(who).setUnlink(UnlinkOp.newBuilder()
        .setParent(parent).setName(name).setNowNs(ns.now())));
  }

  long shared(int mode) {
    long d = ok(mknod(ROOT_CALLER, ROOT, "shared", FileType.DIRECTORY, mode)).getAttr().getInode();
    ok(setAttr(ROOT_CALLER, d, SetAttrOp.newBuilder().setValid(NamespaceWrites.SET_MODE)
        .setMode(mode)));
    return d;
  }

  @Test
  void creatingNeedsWriteAndSearchOnTheDirectory() {
    assertStatus(Status.EACCES, mknod(ALICE, ROOT, "f", FileType.REGULAR, 0644));
    ok(mknod(ROOT_CALLER, ROOT, "f", FileType.REGULAR, 0644));
    long d = shared(0777);
    ok(mknod(ALICE, d, "mine", FileType.REGULAR, 0644));
    ok(setAttr(ROOT_CALLER, d, SetAttrOp.newBuilder().setValid(NamespaceWrites.SET_MODE)
        .setMode(0775)));
    assertStatus(Status.EACCES, mknod(ALICE, d, "more", FileType.REGULAR, 0644));
    assertStatus(Status.EACCES, unlink(ALICE, d, "mine"));
    // Group class through a supplementary group.
    ok(setAttr(ROOT_CALLER, d, SetAttrOp.newBuilder().setValid(NamespaceWrites.SET_GID)
        .setGid(4242)));
    ok(mknod(BOB, d, "bobs", FileType.REGULAR, 0644));
  }

  @Test
  void stickyDirectoriesProtectOthersEntries() {
    long d = shared(01777);
    ok(mknod(ALICE, d, "a", FileType.REGULAR, 0666));
    assertStatus(Status.EPERM, unlink(BOB, d, "a"));
    assertStatus(Status.EPERM, ns.apply(MetaRequest.newBuilder().setCaller(BOB).setRename(
        RenameOp.newBuilder().setSrcParent(d).setSrcName("a").setDstParent(d).setDstName("b")
            .setNowNs(ns.now()))));
    ok(mknod(BOB, d, "b", FileType.REGULAR, 0666));
    assertStatus(Status.EPERM, ns.apply(MetaRequest.newBuilder().setCaller(BOB).setRename(
        RenameOp.newBuilder().setSrcParent(d).setSrcName("b").setDstParent(d).setDstName("a")
            .setNowNs(ns.now()))));
    ok(unlink(ALICE, d, "a"));
    ok(unlink(ROOT_CALLER, d, "b"));
  }

  @Test
  void ownerOnlyAttributeChanges() {
    long d = shared(0777);
    long f = ok(mknod(ALICE, d, "f", FileType.REGULAR, 0666)).getAttr().getInode();
    SetAttrOp.Builder chmod = SetAttrOp.newBuilder().setValid(NamespaceWrites.SET_MODE).setMode(0600);
    assertStatus(Status.EPERM, setAttr(BOB, f, chmod.clone()));
    assertStatus(Status.EPERM, setAttr(ALICE, f, SetAttrOp.newBuilder()
        .setValid(NamespaceWrites.SET_UID).setUid(1002)));
    assertStatus(Status.EPERM, setAttr(ALICE, f, SetAttrOp.newBuilder()
        .setValid(NamespaceWrites.SET_GID).setGid(4242)));
    assertStatus(Status.EPERM, setAttr(BOB, f, SetAttrOp.newBuilder()
        .setValid(NamespaceWrites.SET_MTIME).setMtimeNs(5)));
    ok(setAttr(BOB, f, SetAttrOp.newBuilder().setValid(NamespaceWrites.SET_MTIME_NOW)));
    ok(setAttr(ALICE, f, chmod.clone()));
    assertStatus(Status.EACCES, setAttr(BOB, f, SetAttrOp.newBuilder()
        .setValid(NamespaceWrites.SET_MTIME_NOW)));
    ok(setAttr(ROOT_CALLER, f, SetAttrOp.newBuilder()
        .setValid(NamespaceWrites.SET_UID | NamespaceWrites.SET_GID).setUid(1002).setGid(4242)));
    ok(setAttr(BOB, f, SetAttrOp.newBuilder().setValid(NamespaceWrites.SET_GID).setGid(4242)));
    assertEquals(1002, ns.attr(f).getUid());
  }

  static SetAttrOp.Builder chmod(int mode) {
    return SetAttrOp.newBuilder().setValid(NamespaceWrites.SET_MODE).setMode(mode);
  }

  @Test
  void aWriterWhoDoesNotOwnTheFileMayDropItsSetuidAndSetgidOnly() {
    long d = shared(0777);
    long f = ok(mknod(ROOT_CALLER, d, "f", FileType.REGULAR, 0644)).getAttr().getInode();
    // The kernel's chmod in BOB's name before BOB's write (file_remove_privs); BOB is neither
    // the owner nor in the file's group.
    for (int mode : new int[] {04777, 02777, 06777}) {
      ok(setAttr(ROOT_CALLER, f, chmod(mode)));
      assertEquals(0777, ok(setAttr(BOB, f, chmod(0777))).getAttr().getMode());
    }
    // Dropping setuid alone is allowed too; setgid then goes as in any chmod by a caller
    // outside the file's group.
    ok(setAttr(ROOT_CALLER, f, chmod(06777)));
    assertEquals(0777, ok(setAttr(BOB, f, chmod(02777))).getAttr().getMode());
    // Nothing else: dropping another bit too, adding one, or changing nothing stays owner-only.
    ok(setAttr(ROOT_CALLER, f, chmod(06777)));
    assertStatus(Status.EPERM, setAttr(BOB, f, chmod(0775)));
    assertStatus(Status.EPERM, setAttr(BOB, f, chmod(03777)));
    assertStatus(Status.EPERM, setAttr(BOB, f, chmod(06777)));
    // Only for a caller who may write the file, and only for regular files.
    ok(setAttr(ROOT_CALLER, f, chmod(06775)));
    assertStatus(Status.EPERM, setAttr(BOB, f, chmod(0775)));
    long sub = ok(mknod(ROOT_CALLER, d, "sub", FileType.DIRECTORY, 0777)).getAttr().getInode();
    ok(setAttr(ROOT_CALLER, sub, chmod(02777)));
    assertStatus(Status.EPERM, setAttr(BOB, sub, chmod(0777)));
    assertEquals(06775, ns.attr(f).getMode());
    assertEquals(02777, ns.attr(sub).getMode());
  }

  @Test
  void rootNeedsAnExecuteBitToExecute() {
    ModePermissions p = new ModePermissions();
    var file = io.shoalfs.proto.Attr.newBuilder().setType(FileType.REGULAR).setMode(0644).build();
    assertEquals(Status.OK, p.check(ROOT_CALLER, file, Permissions.READ | Permissions.WRITE));
    assertEquals(Status.EACCES, p.check(ROOT_CALLER, file, Permissions.EXECUTE));
    var dir = file.toBuilder().setType(FileType.DIRECTORY).setMode(0).build();
    assertEquals(Status.OK, p.check(ROOT_CALLER, dir, Permissions.EXECUTE));
    var owned = file.toBuilder().setUid(1001).setMode(0077).build();
    assertEquals(Status.EACCES, p.check(ALICE, owned, Permissions.READ));
  }
}
