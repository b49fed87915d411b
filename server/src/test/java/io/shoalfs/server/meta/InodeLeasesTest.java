package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.NamespaceFixture.ROOT;
import static io.shoalfs.server.meta.NamespaceFixture.assertStatus;
import static io.shoalfs.server.meta.NamespaceFixture.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.CloseSessionOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.JournalOp;
import io.shoalfs.proto.LeaseInodesOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.OpenSessionOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SymlinkOp;
import io.shoalfs.proto.UnlinkOp;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inode numbers leased to a session, the creates that name them, and the chunks a mount places
 * itself in its journal.
 */
class InodeLeasesTest {

  static final long MOUNT = 0xC3;
  static final long OTHER = 0xD4;

  @TempDir Path tmp;
  NamespaceFixture ns;
  private final Map<Long, Long> seqs = new HashMap<>();

  @BeforeEach
  void setUp() throws Exception {
    ns = new NamespaceFixture(tmp.resolve("db"));
    open(MOUNT);
    open(OTHER);
  }

  @AfterEach
  void tearDown() {
    ns.close();
  }

  @Test
  void aLeaseTakesNumbersFromTheCounterWithoutMakingInodes() {
    long before = stats();
    MetaResponse lease = ok(lease(MOUNT, 100, 3, 2));
    long start = lease.getInodeRangeStart();
    assertEquals(100, lease.getInodeRangeCount());
    assertEquals(3, lease.getReplication(), "the factor the proposer put in");
    assertEquals(2, lease.getMinReplicas());
    assertEquals(before, stats(), "no inode exists yet");
    assertEquals(start + 100, ns.file(ROOT, "next"), "the counter moved past the range");
    assertEquals(List.of(range(start, start + 100)), sessionOf(MOUNT).getInodeLeasesList());

    assertStatus(Status.EINVAL, lease(MOUNT, 0, 1, 1));
    assertStatus(Status.EINVAL, lease(MOUNT, InodeLeases.MAX_COUNT + 1, 1, 1));
    ok(lease(MOUNT, InodeLeases.MAX_COUNT, 1, 1));
    assertEquals(Status.EINVAL, ns.entry(MetaRequest.newBuilder()
        .setLeaseInodes(LeaseInodesOp.newBuilder().setCount(1))).getStatus(),
        "no session, no lease");
  }

  @Test
  void aCreateWithALeasedNumberGetsItAndIsOtherwiseAnOrdinaryCreate() {
    long sgid = ns.dir(ROOT, "sgid");
    ok(ns.apply(MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder().setInode(sgid)
        .setValid(NamespaceWrites.SET_MODE | NamespaceWrites.SET_GID).setMode(02775).setGid(77)
        .setNowNs(ns.now()))));
    long start = ok(lease(MOUNT, 10, 1, 1)).getInodeRangeStart();
    long counted = stats();
    long now = ns.now();

    MetaResponse leased = ok(from(MOUNT, mkdir(sgid, "a", start + 3, now)));
    Attr attr = leased.getAttr();
    assertEquals(start + 3, attr.getInode());
    assertEquals(counted + 1, stats());
    MetaResponse ordinary = ok(from(MOUNT, mkdir(sgid, "b", 0, now)));
    assertEquals(start + 10, ordinary.getAttr().getInode(), "the counter was not used");
    assertEquals(ordinary.getAttr().toBuilder().setInode(attr.getInode()).build(), attr,
        "mode, owner, setgid group, nlink and times as any create's");
    Attr parentAfter = leased.getChangedList().get(0);
    assertEquals(sgid, parentAfter.getInode(), "the parent changed as usual");
    assertEquals(3, parentAfter.getNlink());
    assertEquals(now, parentAfter.getMtimeNs());
    assertEquals(02750, attr.getMode(), "setgid carried on to a subdirectory");
    assertEquals(77, attr.getGid());
    assertEquals(start + 3, ok(ns.lookup(sgid, "a")).getAttr().getInode());

    MetaResponse link = ok(from(MOUNT, MetaRequest.newBuilder().setSymlink(SymlinkOp.newBuilder()
        .setParent(ROOT).setName("ln").setTarget("sgid").setNowNs(ns.now()).setInode(start))));
    assertEquals(start, link.getAttr().getInode());
    assertEquals(FileType.SYMLINK, link.getAttr().getType());
  }

  @Test
  void aNumberNotLeasedToTheSessionOrUsedBeforeIsRefused() {
    long start = ok(lease(MOUNT, 4, 1, 1)).getInodeRangeStart();
    long theirs = ok(lease(OTHER, 4, 1, 1)).getInodeRangeStart();
    long counted = stats();
    assertStatus(Status.EINVAL, from(MOUNT, file(ROOT, "x", start + 4)));
    assertStatus(Status.EINVAL, from(MOUNT, file(ROOT, "x", theirs)));
    assertStatus(Status.EINVAL, from(MOUNT, file(ROOT, "x", 1)));
    assertStatus(Status.ENOENT, ns.lookup(ROOT, "x"));
    assertEquals(counted, stats(), "nothing created");

    ok(from(MOUNT, file(ROOT, "x", start + 1)));
    assertStatus(Status.EINVAL, from(MOUNT, file(ROOT, "y", start + 1)));
    ok(from(MOUNT, MetaRequest.newBuilder().setUnlink(
        UnlinkOp.newBuilder().setParent(ROOT).setName("x").setNowNs(ns.now()))));
    assertStatus(Status.EINVAL, from(MOUNT, file(ROOT, "y", start + 1)));
    assertEquals(List.of(range(start, start + 1), range(start + 2, start + 4)),
        sessionOf(MOUNT).getInodeLeasesList(), "a number used out of order splits its range");
    ok(from(MOUNT, file(ROOT, "y", start)));
    ok(from(MOUNT, file(ROOT, "z", start + 3)));
    assertEquals(List.of(range(start + 2, start + 3)), sessionOf(MOUNT).getInodeLeasesList());

    assertStatus(Status.EEXIST, from(MOUNT, file(ROOT, "z", start + 2)));
    assertEquals(List.of(range(start + 2, start + 3)), sessionOf(MOUNT).getInodeLeasesList(),
        "a refused create keeps its number leased");
  }

  @Test
  void aSessionKeepsItsNewestRangesAndLosesThemWhenItEnds() {
    long first = ok(lease(MOUNT, 1, 1, 1)).getInodeRangeStart();
    long second = ok(lease(MOUNT, 1, 1, 1)).getInodeRangeStart();
    for (int i = 2; i < InodeLeases.MAX_RANGES + 1; i++) {
      ok(lease(MOUNT, 1, 1, 1));
    }
    assertEquals(InodeLeases.MAX_RANGES, sessionOf(MOUNT).getInodeLeasesCount());
    assertStatus(Status.EINVAL, from(MOUNT, file(ROOT, "old", first)));
    ok(from(MOUNT, file(ROOT, "kept", second)));

    long third = sessionOf(MOUNT).getInodeLeases(0).getStart();
    ok(from(MOUNT, MetaRequest.newBuilder().setCloseSession(CloseSessionOp.getDefaultInstance())));
    open(MOUNT);
    assertStatus(Status.EINVAL, from(MOUNT, file(ROOT, "after", third)));
  }

  @Test
  void aJournalCreatesUnlinksAndCreatesOneNameWithLeasedNumbers() {
    long start = ok(lease(MOUNT, 3, 1, 1)).getInodeRangeStart();
    MetaResponse journal = ok(from(MOUNT, MetaRequest.newBuilder().setJournal(JournalOp.newBuilder()
        .addOps(file(ROOT, "n", start))
        .addOps(MetaRequest.newBuilder().setUnlink(
            UnlinkOp.newBuilder().setParent(ROOT).setName("n").setNowNs(ns.now())))
        .addOps(file(ROOT, "n", start + 1))
        .addOps(file(ROOT, "again", start)))));
    assertEquals(List.of(Status.OK, Status.OK, Status.OK, Status.EINVAL),
        journal.getBatchedList().stream().map(MetaResponse::getStatus).toList());
    assertEquals(List.of(start), journal.getBatched(1).getFreedList());
    assertEquals(start + 1, ok(ns.lookup(ROOT, "n")).getAttr().getInode());
    assertStatus(Status.ENOENT, ns.getAttr(start));
  }

  // ------------------------------------------------------------------ chunks placed by the mount

  @Test
  void aJournalPlacesANewFilesChunkOnTheMembersTheMountChose() {
    long start = ok(lease(MOUNT, 2, 2, 1)).getInodeRangeStart();
    MetaResponse journal = ok(from(MOUNT, MetaRequest.newBuilder().setJournal(JournalOp.newBuilder()
        .addOps(file(ROOT, "f", start))
        .addOps(place(start, 0, "m2", "m1"))
        .addOps(place(start, 0, "m3"))
        .addOps(MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setParent(ROOT)
            .setName("d").setType(FileType.DIRECTORY).setMode(0755).setNowNs(ns.now())
            .setInode(start + 1)))
        .addOps(place(start + 1, 0, "m1"))
        .addOps(place(start + 5, 0, "m1"))
        .addOps(place(start, 1, "m1", "m1")))));
    assertEquals(List.of(Status.OK, Status.OK, Status.EEXIST, Status.OK, Status.EISDIR,
            Status.ENOENT, Status.EINVAL),
        journal.getBatchedList().stream().map(MetaResponse::getStatus).toList());
    ChunkLocation placed = journal.getBatched(1).getLocations(0);
    assertEquals(1, placed.getVersion());
    assertEquals(List.of("m2", "m1"), placed.getReplicasList(), "in the mount's chain order");
    assertEquals(List.of(placed), ok(ns.read(MetaRequest.newBuilder().setGetChunkLocations(
        GetChunkLocationsOp.newBuilder().setInode(start).setCount(10)))).getLocationsList());
    assertEquals(1, ok(ns.read(MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()))).getChunkCount());
  }

  @Test
  void aPlacedChunkOutsideAJournalAndAPlainAllocationInsideOneAreRefused() {
    long inode = ns.file(ROOT, "f");
    assertStatus(Status.BAD_REQUEST, from(MOUNT, place(inode, 0, "m1")));
    assertStatus(Status.BAD_REQUEST, from(MOUNT, MetaRequest.newBuilder().setJournal(
        JournalOp.newBuilder().addOps(MetaRequest.newBuilder().setAllocateChunk(
            AllocateChunkOp.newBuilder().setChunk(ChunkId.newBuilder().setInode(inode))
                .addCandidates("m1").addLive("m1").setReplication(1).setMinReplicas(1))))));
    assertEquals(0, ok(ns.read(MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()))).getChunkCount(),
        "no chunk was placed");
  }

  // ------------------------------------------------------------------ helpers

  private void open(long client) {
    ok(from(client, MetaRequest.newBuilder().setOpenSession(OpenSessionOp.newBuilder().setNowNs(1))));
  }

  private MetaResponse from(long client, MetaRequest.Builder request) {
    long seq = seqs.merge(client, 1L, Long::sum);
    return ns.entry(request.setClientId(client).setRequestSeq(seq));
  }

  private MetaResponse lease(long client, int count, int replication, int minReplicas) {
    return from(client, MetaRequest.newBuilder().setLeaseInodes(LeaseInodesOp.newBuilder()
        .setCount(count).setReplication(replication).setMinReplicas(minReplicas)));
  }

  private MetaRequest.Builder file(long parent, String name, long inode) {
    return MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setParent(parent)
        .setName(name).setType(FileType.REGULAR).setMode(0644).setNowNs(ns.now()).setInode(inode));
  }

  private static MetaRequest.Builder mkdir(long parent, String name, long inode, long now) {
    return MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setParent(parent)
        .setName(name).setType(FileType.DIRECTORY).setMode(0750).setNowNs(now).setInode(inode));
  }

  private static MetaRequest.Builder place(long inode, int index, String... members) {
    return MetaRequest.newBuilder().setAllocateChunk(AllocateChunkOp.newBuilder()
        .setChunk(ChunkId.newBuilder().setInode(inode).setIndex(index))
        .addAllPlaced(List.of(members)));
  }

  private static io.shoalfs.proto.InodeRange range(long start, long end) {
    return io.shoalfs.proto.InodeRange.newBuilder().setStart(start).setEnd(end).build();
  }

  private io.shoalfs.proto.SessionRecord sessionOf(long client) {
    return ns.kv.read(r -> new Sessions(r).get(client));
  }

  private long stats() {
    return ok(ns.read(MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()))).getInodeCount();
  }
}
