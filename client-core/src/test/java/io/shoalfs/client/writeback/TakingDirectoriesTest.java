package io.shoalfs.client.writeback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A mount takes the capability of a directory that existed before, and works there alone. */
class TakingDirectoriesTest {
  private static final Caller ROOT = Caller.newBuilder().setUid(0).setGid(0).build();
  private static final long DIR = 50;
  private static final long FILE = 60;
  private static final long SUB = 70;

  private final RecordingService service = new RecordingService();
  private final WriteBack writeBack = new WriteBack(service, TakingDirectoriesTest::members,
      new JournalSettings(Duration.ofHours(1), 10_000, Duration.ofHours(1)), Runnable::run);

  @AfterEach
  void close() {
    writeBack.close();
  }

  private static List<MemberInfo> members() {
    return List.of(MemberInfo.newBuilder().setId("m1").setAddress("m1:1").setState(MemberState.UP).build());
  }

  private static DirEntry file(String name, long inode, int nlink) {
    return DirEntry.newBuilder().setName(name).setInode(inode).setType(FileType.REGULAR)
        .setAttr(Attr.newBuilder().setInode(inode).setType(FileType.REGULAR).setMode(0644)
            .setNlink(nlink).setSize(5)).build();
  }

  private static DirEntry dir(String name, long inode) {
    return DirEntry.newBuilder().setName(name).setInode(inode).setType(FileType.DIRECTORY)
        .setAttr(RecordingService.dirAttr(inode)).build();
  }

  /** /d (inode DIR) holds a file "f" and a directory "sub" (empty). */
  private void existingTree() {
    service.listings.put(DIR, List.of(file("f", FILE, 1), dir("sub", SUB)));
  }

  private static MetaRequest.Builder unlink(long parent, String name) {
    return MetaRequest.newBuilder().setCaller(ROOT).setUnlink(
        UnlinkOp.newBuilder().setParent(parent).setName(name).setNowNs(200));
  }

  private static MetaRequest.Builder create(long parent, String name) {
    return MetaRequest.newBuilder().setCaller(ROOT).setMakeNode(
        MakeNodeOp.newBuilder().setParent(parent).setName(name).setType(FileType.REGULAR)
            .setMode(0644).setNowNs(100));
  }

  /** As MetaClient does it: take what the mutation wants, then answer it here if it can. */
  private MetaResponse mutateIn(String parentPath, MetaRequest.Builder request)
      throws RpcException {
    writeBack.takeCapabilities(request, parentPath, null);
    return writeBack.local(request);
  }

  @Test
  void aMutationInAnExistingDirectoryTakesItAndIsAnsweredHere() throws Exception {
    existingTree();
    MetaResponse removed = mutateIn("/d", unlink(DIR, "f"));

    assertNotNull(removed, "answered here once the directory is taken");
    assertEquals(List.of(DIR), service.acquired);
    assertEquals(Status.ENOENT,
        assertThrows(RpcException.class, () -> writeBack.resolve("/d/f")).status());
    MetaResponse made = mutateIn("/d", create(DIR, "g"));
    assertNotNull(made);
    assertEquals(List.of(DIR), service.acquired, "taken once");
    writeBack.flush();
    assertEquals(List.of(MetaRequest.OpCase.UNLINK, MetaRequest.OpCase.MAKE_NODE),
        service.allOps().stream().map(MetaRequest::getOpCase).toList());
  }

  @Test
  void namesThatExistedBeforeAreAnsweredWithoutAttributes() throws Exception {
    existingTree();
    mutateIn("/d", create(DIR, "new"));

    WriteBack.Resolved f = writeBack.resolve("/d/f");
    assertEquals(FILE, f.inode());
    assertFalse(f.hasAttr(), "another mount may write it: its attributes are the servers'");
    assertTrue(writeBack.resolve("/d/new").hasAttr(), "made here: kept here");
    MetaResponse listing = writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setReadDir(ReadDirOp.newBuilder().setInode(DIR).setWithAttrs(true)));
    assertEquals(List.of("f", "new", "sub"),
        listing.getEntriesList().stream().map(DirEntry::getName).toList());
    assertFalse(listing.getEntries(0).hasAttr());
    assertTrue(listing.getEntries(1).hasAttr());
    assertNull(writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setGetAttr(GetAttrOp.newBuilder().setInode(FILE))), "asked of the servers");
  }

  @Test
  void anInodeWhoseNameTheJournalChangedIsAskedAboutOnlyAfterTheJournal() throws Exception {
    existingTree();
    MetaRequest.Builder rename = MetaRequest.newBuilder().setCaller(ROOT).setRename(
        RenameOp.newBuilder().setSrcParent(DIR).setSrcName("f").setDstParent(DIR)
            .setDstName("f2").setNowNs(300));
    writeBack.takeCapabilities(rename, "/d", "/d");
    assertNotNull(writeBack.local(rename));
    assertEquals(FILE, writeBack.resolve("/d/f2").inode());
    assertTrue(service.journals.isEmpty());

    MetaRequest.Builder getattr = MetaRequest.newBuilder().setCaller(ROOT)
        .setGetAttr(GetAttrOp.newBuilder().setInode(FILE));
    assertTrue(writeBack.beforeRemote(getattr));
    writeBack.afterRemote(getattr);
    assertEquals(1, service.journals.size(), "the rename went before the getattr");

    MetaRequest.Builder other = MetaRequest.newBuilder().setCaller(ROOT)
        .setGetAttr(GetAttrOp.newBuilder().setInode(FILE));
    writeBack.beforeRemote(other);
    writeBack.afterRemote(other);
    assertEquals(1, service.journals.size(), "nothing pending any more: no second journal");
  }

  @Test
  void removingAnExistingSubdirectoryTakesItFirstAndKeepsTheParent() throws Exception {
    existingTree();
    MetaRequest.Builder rmdir = MetaRequest.newBuilder().setCaller(ROOT).setRmdir(
        RmdirOp.newBuilder().setParent(DIR).setName("sub").setNowNs(400));
    MetaResponse removed = mutateIn("/d", rmdir);

    assertNotNull(removed);
    assertEquals(List.of(DIR, SUB), service.acquired, "the parent, then the directory itself");
    assertEquals(SUB, removed.getFreedInode());
    writeBack.flush();
    assertTrue(service.allReleased().isEmpty(), "nothing given back");
  }

  @Test
  void aDirectoryWithAHardLinkedFileIsGivenBackAndLeftAloneForAWhile() throws Exception {
    service.listings.put(DIR, List.of(file("f", FILE, 2)));
    assertNull(mutateIn("/d", unlink(DIR, "f")), "the servers unlink it");
    assertEquals(List.of(DIR), service.allReleased());

    assertNull(mutateIn("/d", unlink(DIR, "f")));
    assertEquals(List.of(DIR), service.acquired, "not asked again at once");
  }

  @Test
  void aDirectoryTooLargeToKeepIsGivenBack() throws Exception {
    List<DirEntry> many = new ArrayList<>();
    for (int i = 0; i <= TakePolicy.MAX_ENTRIES; i++) {
      many.add(file("f" + i, 1000 + i, 1));
    }
    service.listings.put(DIR, many);
    assertNull(mutateIn("/d", create(DIR, "x")));
    assertEquals(List.of(DIR), service.allReleased());
  }

  @Test
  void aDirectoryAnotherMountHoldsIsLeftToTheServers() throws Exception {
    existingTree();
    service.acquireAnswer = Status.CAP_HELD;
    assertNull(mutateIn("/d", create(DIR, "x")));
    service.acquireAnswer = Status.OK;
    assertNull(mutateIn("/d", create(DIR, "y")), "left alone after the refusal");
    assertEquals(List.of(DIR), service.acquired);
  }

  @Test
  void aRecalledDirectoryIsNotTakenAgainAtOnce() throws Exception {
    existingTree();
    assertNotNull(mutateIn("/d", create(DIR, "x")));
    writeBack.recalled(List.of(DIR));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (service.allReleased().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(List.of(DIR), service.allReleased());
    assertNull(mutateIn("/d", create(DIR, "y")));
    assertEquals(List.of(DIR), service.acquired);
  }

  @Test
  void aDirectoryWithAMutationOnItsWayToTheServersIsNotTaken() throws Exception {
    existingTree();
    MetaRequest.Builder inFlight = create(DIR, "x");
    assertTrue(writeBack.beforeRemote(inFlight));
    assertNull(mutateIn("/d", create(DIR, "y")), "its listing could miss x");
    assertTrue(service.acquired.isEmpty());

    writeBack.afterRemote(inFlight);
    assertNotNull(mutateIn("/d", create(DIR, "z")));
  }

  @Test
  void theRootAndUnknownPathsAreNeverTaken() throws Exception {
    existingTree();
    assertNull(mutateIn("/", create(1, "x")));
    assertNull(mutateIn(null, create(DIR, "x")));
    assertTrue(service.acquired.isEmpty());
  }
}
