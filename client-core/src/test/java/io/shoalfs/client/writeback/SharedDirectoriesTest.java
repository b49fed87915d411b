package io.shoalfs.client.writeback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The mount's side of shared capabilities: when a directory is taken, what its listing then
 * answers without the servers, and what makes the mount forget it and give it back.
 */
class SharedDirectoriesTest {
  private static final Caller ROOT = Caller.getDefaultInstance();
  private static final long ROOT_DIR = 1;
  private static final long DIR = 50;
  private static final long FILE = 60;
  private static final long SUB = 61;
  private static final long LINKED = 62;

  private final RecordingService service = new RecordingService();
  private final WriteBack writeBack = new WriteBack(service, List::of,
      new JournalSettings(Duration.ofHours(1), 10_000, Duration.ofHours(1)), Runnable::run);

  @BeforeEach
  void listings() {
    service.listings.put(ROOT_DIR, List.of(entry("d", dirAttr(DIR, ROOT_DIR))));
    service.listings.put(DIR, List.of(
        entry("f", fileAttr(FILE, DIR, 1)),
        entry("linked", fileAttr(LINKED, 0, 2)),
        entry("sub", dirAttr(SUB, DIR))));
  }

  @AfterEach
  void close() {
    writeBack.close();
  }

  @Test
  void aDirectoryReadTwiceThroughTheServersIsTakenShared() throws RpcException {
    readThroughServers(DIR);
    assertEquals(List.of(), service.sharedAcquired, "one read: not yet");
    assertNull(lookup(DIR, "f"));
    readThroughServers(DIR);
    assertEquals(List.of(DIR), service.sharedAcquired);
    assertEquals(List.of(), service.acquired, "no exclusive capability asked for");
    assertTrue(writeBack.holdsDirectory(DIR));
  }

  @Test
  void aHeldListingAnswersLookupsListingsAndCoveredAttributes() throws RpcException {
    take(DIR);
    assertEquals(FILE, lookup(DIR, "f").getAttr().getInode());
    RpcException missing = assertThrows(RpcException.class, () -> lookup(DIR, "nope"));
    assertEquals(Status.ENOENT, missing.status());
    assertNull(lookup(DIR, "sub"), "a directory's attributes are not covered");
    assertNull(lookup(DIR, "linked"), "nor those of a file with two names");
    assertEquals(FILE, getattr(FILE).getInode());
    assertNull(getattr(LINKED));

    MetaResponse names = writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setReadDir(ReadDirOp.newBuilder().setInode(DIR)));
    assertEquals(List.of("f", "linked", "sub"),
        names.getEntriesList().stream().map(DirEntry::getName).toList());
    assertFalse(names.getEntries(0).hasAttr());
    assertNull(writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setReadDir(ReadDirOp.newBuilder().setInode(DIR).setWithAttrs(true))),
        "attributes it does not keep are the servers'");
  }

  @Test
  void aPathResolvesHereOnlyThroughHeldDirectoriesFromTheRoot() throws RpcException {
    take(DIR);
    assertNull(writeBack.resolve("/d/f"), "the root is not held: the walk cannot start");
    take(ROOT_DIR);
    assertEquals(FILE, writeBack.resolve("/d/f").attr().getInode());
    WriteBack.Resolved sub = writeBack.resolve("/d/sub");
    assertEquals(SUB, sub.inode());
    assertFalse(sub.hasAttr(), "a directory: its attributes are asked for");
    assertThrows(RpcException.class, () -> writeBack.resolve("/d/nope"));
    assertNull(writeBack.resolve("/d/sub/x"), "sub is not held");
  }

  @Test
  void aWalkGoesOnThroughDirectoriesThisMountHoldsExclusively() throws RpcException {
    take(ROOT_DIR);
    // /d is taken exclusively at a create there; /d/sub, which it did not make, is read
    // twice and so held shared.
    service.listings.put(DIR, List.of(entry("f", fileAttr(FILE, DIR, 1)),
        entry("sub", dirAttr(SUB, DIR))));
    service.listings.put(SUB, List.of(entry("g", fileAttr(90, SUB, 1))));
    MetaRequest.Builder create = MetaRequest.newBuilder().setCaller(ROOT).setMakeNode(
        io.shoalfs.proto.MakeNodeOp.newBuilder().setParent(DIR).setName("new")
            .setType(FileType.REGULAR).setMode(0644));
    writeBack.takeCapabilities(create, "/d", null);
    assertEquals(List.of(DIR), service.acquired);
    take(SUB);
    assertEquals(90, writeBack.resolve("/d/sub/g").attr().getInode(),
        "root (shared), d (exclusive), sub (shared)");
    assertThrows(RpcException.class, () -> writeBack.resolve("/d/sub/nope"));
  }

  @Test
  void aRecallForgetsTheListingAndGivesItBack() throws Exception {
    take(DIR);
    writeBack.recalled(List.of(DIR));
    assertNull(lookup(DIR, "f"));
    assertFalse(writeBack.holdsDirectory(DIR));
    awaitRelease(DIR);
  }

  @Test
  void thisMountsOwnChangeThroughTheServersForgetsWhatItTouches() throws Exception {
    take(DIR);
    MetaRequest.Builder commit = MetaRequest.newBuilder().setCaller(ROOT)
        .setCommitWrite(CommitWriteOp.newBuilder().setInode(FILE).setEndOffset(10));
    assertTrue(writeBack.beforeRemote(commit));
    writeBack.afterRemote(commit);
    assertNull(getattr(FILE), "its size changed: the servers' answer decides it");
    assertNotNull(writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setReadDir(ReadDirOp.newBuilder().setInode(DIR))), "the names are still right");

    MetaRequest.Builder unlink = MetaRequest.newBuilder().setCaller(ROOT)
        .setUnlink(UnlinkOp.newBuilder().setParent(DIR).setName("linked"));
    assertTrue(writeBack.beforeRemote(unlink));
    writeBack.afterRemote(unlink);
    assertFalse(writeBack.holdsDirectory(DIR), "its names changed: the listing goes");
    writeBack.flush();
    assertEquals(List.of(DIR), service.sharedReleases, "and so does the shared capability");
    assertEquals(List.of(), service.allReleased(), "nothing else");
  }

  @Test
  void aListingThatMayPredateThisMountsChangeIsNotKept() throws Exception {
    RecordingService racing = new RecordingService();
    racing.listings.put(DIR, List.of(entry("f", fileAttr(FILE, DIR, 1))));
    racing.beforeListing = () -> {
      // This mount removes the name while the listing is on its way.
      MetaRequest.Builder unlink = MetaRequest.newBuilder().setCaller(ROOT)
          .setUnlink(UnlinkOp.newBuilder().setParent(DIR).setName("f"));
      try {
        racingWriteBack[0].beforeRemote(unlink);
      } catch (RpcException e) {
        throw new AssertionError(e);
      }
      racingWriteBack[0].afterRemote(unlink);
    };
    try (WriteBack wb = new WriteBack(racing, List::of,
        new JournalSettings(Duration.ofHours(1), 10_000, Duration.ofHours(1)), Runnable::run)) {
      racingWriteBack[0] = wb;
      readThroughServers(wb, DIR);
      readThroughServers(wb, DIR);
      assertEquals(List.of(DIR), racing.sharedAcquired);
      assertFalse(wb.holdsDirectory(DIR));
      wb.flush();
      assertEquals(List.of(DIR), racing.sharedReleases, "granted, then given back");
    }
  }

  private final WriteBack[] racingWriteBack = new WriteBack[1];

  // ------------------------------------------------------------------ helpers

  private void take(long dir) throws RpcException {
    readThroughServers(dir);
    readThroughServers(dir);
    assertTrue(writeBack.holdsDirectory(dir), "taken");
  }

  private void readThroughServers(long dir) throws RpcException {
    readThroughServers(writeBack, dir);
  }

  private static void readThroughServers(WriteBack wb, long dir) throws RpcException {
    MetaRequest.Builder read = MetaRequest.newBuilder().setCaller(ROOT)
        .setReadDir(ReadDirOp.newBuilder().setInode(dir).setWithAttrs(true));
    assertNull(wb.local(read));
    assertTrue(wb.beforeRemote(read));
    wb.afterRemote(read);
  }

  private MetaResponse lookup(long dir, String name) throws RpcException {
    return writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setLookup(LookupOp.newBuilder().setParent(dir).setName(name)));
  }

  private Attr getattr(long inode) throws RpcException {
    MetaResponse r = writeBack.local(MetaRequest.newBuilder().setCaller(ROOT)
        .setGetAttr(GetAttrOp.newBuilder().setInode(inode)));
    return r == null ? null : r.getAttr();
  }

  private void awaitRelease(long dir) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!service.allReleased().contains(dir) && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(service.allReleased().contains(dir), "given back");
  }

  private static DirEntry entry(String name, Attr attr) {
    return DirEntry.newBuilder().setName(name).setInode(attr.getInode()).setType(attr.getType())
        .setAttr(attr).build();
  }

  private static Attr fileAttr(long inode, long parent, int nlink) {
    return Attr.newBuilder().setInode(inode).setType(FileType.REGULAR).setMode(0644)
        .setNlink(nlink).setParent(parent).setSize(5).build();
  }

  private static Attr dirAttr(long inode, long parent) {
    return Attr.newBuilder().setInode(inode).setType(FileType.DIRECTORY).setMode(0755)
        .setNlink(2).setParent(parent).build();
  }
}
