package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.NamespaceFixture.ROOT;
import static io.shoalfs.server.meta.NamespaceFixture.assertStatus;
import static io.shoalfs.server.meta.NamespaceFixture.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.AddReplicaOp;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.CheckReplicasOp;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.FenceChunkOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GarbageInode;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.ListChunksOp;
import io.shoalfs.proto.ListGarbageOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.PurgeOp;
import io.shoalfs.proto.ReportReplicaFailureOp;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chunk map over a real RocksDB store, through {@link Namespace} as the state machine runs it. */
class ChunkMapTest {

  static final List<String> ALL = List.of("m1", "m2", "m3", "m4");

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

  // ------------------------------------------------------------------ resolve for open

  @Test
  void aResolveWithLookaheadSaysWhereTheFirstChunksOfAFileLive() {
    long f = ns.file(NamespaceFixture.ROOT, "f");
    ok(allocate(chunk(f, 0), ALL, ALL, 3, 2));
    ok(allocate(chunk(f, 2), ALL, ALL, 3, 2));
    ok(allocate(chunk(f, 9), ALL, ALL, 3, 2));
    MetaResponse r = ok(ns.read(MetaRequest.newBuilder().setResolve(
        io.shoalfs.proto.ResolveOp.newBuilder().setPath("/f").setChunkLookahead(8))));
    assertEquals(f, r.getAttr().getInode());
    assertEquals(List.of(0, 2), r.getLocationsList().stream().map(l -> l.getChunk().getIndex()).toList(),
        "the existing chunks among the first 8");
    MetaResponse plain = ok(ns.read(MetaRequest.newBuilder().setResolve(
        io.shoalfs.proto.ResolveOp.newBuilder().setPath("/f"))));
    assertEquals(0, plain.getLocationsCount(), "no lookahead, no locations");
    ns.dir(NamespaceFixture.ROOT, "d");
    assertEquals(0, ok(ns.read(MetaRequest.newBuilder().setResolve(
        io.shoalfs.proto.ResolveOp.newBuilder().setPath("/d").setChunkLookahead(8))))
        .getLocationsCount());
  }

  // ------------------------------------------------------------------ create with first chunk

  @Test
  void aCreateWithFirstChunkPlacesChunkZeroInTheSameEntry() {
    MetaResponse made = ok(ns.apply(MetaRequest.newBuilder().setMakeNode(
        createOp("f", FileType.REGULAR).setFirstChunk(placement(ALL, 3, 2)))));
    long f = made.getAttr().getInode();
    ChunkLocation placed = location(made);
    assertEquals(chunk(f, 0), placed.getChunk());
    assertEquals(1, placed.getVersion());
    assertEquals(ALL.subList(0, 3), placed.getReplicasList());
    assertEquals(List.of(placed), locations(f, 0, 8), "the chunk map holds it");
    assertEquals(1, chunkCount());
    // The file's first write asks allocate anyway if its location was lost: same answer.
    assertEquals(placed, location(ok(allocate(chunk(f, 0), List.of("m4"), ALL, 3, 2))));
  }

  @Test
  void aCreateWithoutFirstChunkOrOfADirectoryPlacesNothing() {
    long plain = ok(ns.apply(MetaRequest.newBuilder().setMakeNode(createOp("f", FileType.REGULAR))))
        .getAttr().getInode();
    MetaResponse dir = ok(ns.apply(MetaRequest.newBuilder().setMakeNode(
        createOp("d", FileType.DIRECTORY).setFirstChunk(placement(ALL, 3, 2)))));
    assertEquals(0, dir.getLocationsCount());
    assertEquals(List.of(), locations(plain, 0, 8));
    assertEquals(List.of(), locations(dir.getAttr().getInode(), 0, 8));
    assertEquals(0, chunkCount());
  }

  @Test
  void tooFewLiveMembersStillCreatesTheFileWithoutAChunk() {
    MetaResponse made = ok(ns.apply(MetaRequest.newBuilder().setMakeNode(
        createOp("f", FileType.REGULAR).setFirstChunk(placement(List.of("m1"), 3, 2)))));
    assertEquals(0, made.getLocationsCount());
    assertEquals(List.of(), locations(made.getAttr().getInode(), 0, 8));
    assertEquals(0, chunkCount());
    assertEquals(made.getAttr(), ns.lookup(ROOT, "f").getAttr());
    // A refused create places nothing either.
    assertStatus(Status.EEXIST, ns.apply(MetaRequest.newBuilder().setMakeNode(
        createOp("f", FileType.REGULAR).setFirstChunk(placement(ALL, 3, 2)))));
    assertEquals(0, chunkCount());
  }

  private static MakeNodeOp.Builder createOp(String name, FileType type) {
    return MakeNodeOp.newBuilder().setParent(ROOT).setName(name).setType(type).setMode(0644)
        .setNowNs(1000);
  }

  private static AllocateChunkOp placement(List<String> candidates, int replication,
      int minReplicas) {
    return AllocateChunkOp.newBuilder().addAllCandidates(candidates).addAllLive(ALL)
        .setReplication(replication).setMinReplicas(minReplicas).build();
  }

  // ------------------------------------------------------------------ allocate

  @Test
  void allocateCreatesVersionOneOnTheFirstCandidates() {
    ChunkLocation created = location(ok(allocate(chunk(5, 0), ALL, ALL, 3, 2)));
    assertEquals(chunk(5, 0), created.getChunk());
    assertEquals(1, created.getVersion());
    assertEquals(List.of("m1", "m2", "m3"), created.getReplicasList());
    assertEquals(List.of(created), locations(5, 0, 10));
  }

  @Test
  void allocateWithFewerCandidatesThanTheFactorStillCreatesAtMinReplicas() {
    ChunkLocation created = location(ok(allocate(chunk(5, 0), List.of("m2", "m2", "m4"), ALL, 3, 2)));
    assertEquals(List.of("m2", "m4"), created.getReplicasList(), "duplicates count once");
  }

  @Test
  void allocateOfAPresentChunkWithAllLiveChangesNothing() {
    ChunkLocation created = location(ok(allocate(chunk(5, 0), ALL, ALL, 3, 2)));
    List<String> before = ns.dump();
    // Other candidates now: a present chunk keeps its replicas whatever the placement says.
    ChunkLocation again = location(ok(allocate(chunk(5, 0), List.of("m4", "m3"), ALL, 3, 2)));
    assertEquals(created, again);
    assertEquals(before, ns.dump());
  }

  @Test
  void allocateDropsAReplicaMissingFromLiveAndBumpsTheVersion() {
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    List<String> live = List.of("m1", "m3", "m4");
    ChunkLocation next = location(ok(allocate(chunk(5, 0), live, live, 3, 2)));
    assertEquals(2, next.getVersion());
    assertEquals(List.of("m1", "m3"), next.getReplicasList(), "chain order is kept");
    assertEquals(List.of(next), locations(5, 0, 1));
  }

  @Test
  void allocateBelowMinReplicasIsUnavailableAndWritesNothing() {
    List<String> before = ns.dump();
    assertStatus(Status.UNAVAILABLE, allocate(chunk(5, 0), List.of("m1"), List.of("m1"), 3, 2));
    assertEquals(before, ns.dump(), "no chunk, no counter");

    ChunkLocation created = location(ok(allocate(chunk(5, 1), ALL, ALL, 3, 2)));
    List<String> withChunk = ns.dump();
    List<String> live = List.of("m1", "m4");
    MetaResponse refused = allocate(chunk(5, 1), live, live, 3, 2);
    assertStatus(Status.UNAVAILABLE, refused);
    assertEquals(withChunk, ns.dump());
    assertEquals(List.of(created), locations(5, 1, 1));
  }

  @Test
  void allocateWithoutAnInodeIsInvalid() {
    assertStatus(Status.EINVAL, allocate(chunk(0, 3), ALL, ALL, 3, 2));
  }

  // ------------------------------------------------------------------ report_replica_failure

  @Test
  void failureAtTheCurrentVersionDropsTheMemberAndBumps() {
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    ChunkLocation next = location(ok(report(chunk(5, 0), 1, "m2")));
    assertEquals(2, next.getVersion());
    assertEquals(List.of("m1", "m3"), next.getReplicasList());
    assertEquals(List.of(next), locations(5, 0, 1));
  }

  @Test
  void failureAtAnOldVersionIsAnsweredWithTheCurrentLocation() {
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    ChunkLocation current = location(ok(report(chunk(5, 0), 1, "m2")));
    List<String> before = ns.dump();
    // A second writer saw m3 fail at version 1: the chain moved on, so the report is stale.
    assertEquals(current, location(ok(report(chunk(5, 0), 1, "m3"))));
    assertEquals(before, ns.dump());
  }

  @Test
  void failureNeverDropsTheLastReplica() {
    ok(allocate(chunk(5, 0), ALL, ALL, 2, 1));
    ok(report(chunk(5, 0), 1, "m1"));
    List<String> before = ns.dump();
    ChunkLocation last = location(ok(report(chunk(5, 0), 2, "m2")));
    assertEquals(List.of("m2"), last.getReplicasList());
    assertEquals(2, last.getVersion());
    assertEquals(before, ns.dump());
  }

  @Test
  void failureOfANonReplicaOrAnAbsentChunk() {
    ChunkLocation created = location(ok(allocate(chunk(5, 0), ALL, ALL, 3, 2)));
    assertEquals(created, location(ok(report(chunk(5, 0), 1, "m4"))));
    assertStatus(Status.ENOENT, report(chunk(5, 9), 1, "m1"));
  }

  // ------------------------------------------------------------------ add_replica

  @Test
  void aFencedCopyIsAddedAtTheEndOfTheChainOneVersionOn() {
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    ok(report(chunk(5, 0), 1, "m2"));
    ChunkLocation fenced = location(ok(fence(chunk(5, 0), 2, true)));
    assertEquals(List.of("m1", "m3"), fenced.getReplicasList());
    assertEquals(3, fenced.getVersion(), "fencing bumps the version");
    assertTrue(fenced.getCopying());
    assertEquals(List.of(fenced), locations(5, 0, 1), "writers see the fence");

    ChunkLocation healed = location(ok(add(chunk(5, 0), 3, "m4")));
    assertEquals(List.of("m1", "m3", "m4"), healed.getReplicasList());
    assertEquals(4, healed.getVersion());
    assertFalse(healed.getCopying(), "adding the copy lifts the fence");
    assertEquals(healed, location(ok(add(chunk(5, 0), 3, "m4"))), "adding twice is harmless");
    assertEquals(List.of(healed), locations(5, 0, 1));
  }

  @Test
  void aCopyMadeWithoutTheFenceOrAtAnotherVersionIsStale() {
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    ChunkLocation current = location(ok(report(chunk(5, 0), 1, "m2")));
    List<String> before = ns.dump();
    MetaResponse unfenced = add(chunk(5, 0), 2, "m4");
    assertStatus(Status.STALE_VERSION, unfenced);
    assertEquals(current, location(unfenced), "the answer carries the current location");
    assertStatus(Status.STALE_VERSION, add(chunk(5, 0), 1, "m4"));
    assertEquals(before, ns.dump());
    assertStatus(Status.ENOENT, add(chunk(6, 0), 1, "m4"));
  }

  @Test
  void anyChangeDuringTheCopyEndsTheFenceAndTheCopyIsNeverAdded() {
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    ChunkLocation fenced = location(ok(fence(chunk(5, 0), 1, true)));
    // A replica dropped meanwhile (a writer's report): one version on, not copying.
    ChunkLocation dropped = location(ok(report(chunk(5, 0), fenced.getVersion(), "m3")));
    assertEquals(3, dropped.getVersion());
    assertFalse(dropped.getCopying());
    assertStatus(Status.STALE_VERSION, add(chunk(5, 0), fenced.getVersion(), "m4"));

    // A copy given up: lifting bumps the version too, and a late add_replica is refused.
    ChunkLocation again = location(ok(fence(chunk(5, 0), 3, true)));
    ChunkLocation lifted = location(ok(fence(chunk(5, 0), again.getVersion(), false)));
    assertEquals(5, lifted.getVersion());
    assertFalse(lifted.getCopying());
    assertEquals(List.of("m1", "m2"), lifted.getReplicasList());
    assertStatus(Status.STALE_VERSION, add(chunk(5, 0), again.getVersion(), "m4"));
  }

  @Test
  void fencingChecksTheVersionAndTheState() {
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    assertStatus(Status.STALE_VERSION, fence(chunk(5, 0), 7, true));
    assertStatus(Status.STALE_VERSION, fence(chunk(5, 0), 1, false)); // nothing to lift
    ChunkLocation fenced = location(ok(fence(chunk(5, 0), 1, true)));
    MetaResponse twice = fence(chunk(5, 0), 2, true);
    assertStatus(Status.STALE_VERSION, twice);
    assertEquals(fenced, location(twice));
    assertStatus(Status.ENOENT, fence(chunk(6, 0), 1, true));
  }

  @Test
  void aDeletedFilesChunkIsNotFencedForACopy() {
    long f = ns.file(ROOT, "deleted");
    ok(allocate(chunk(f, 0), List.of("m1", "m2"), ALL, 3, 2));
    ok(ns.unlink(ROOT, "deleted"));
    // Its holders reap it by the garbage record; a copy to m3 would be left to nobody.
    assertStatus(Status.ENOENT, fence(chunk(f, 0), 1, true));
  }

  // ------------------------------------------------------------------ reads

  @Test
  void getChunkLocationsReturnsTheExistingChunksOfTheRange() {
    for (int index : new int[] {0, 1, 3, 7}) {
      ok(allocate(chunk(5, index), ALL, ALL, 1, 1));
    }
    ok(allocate(chunk(6, 2), ALL, ALL, 1, 1));
    assertEquals(List.of(0, 1, 3), indices(locations(5, 0, 4)));
    assertEquals(List.of(3, 7), indices(locations(5, 2, 100)));
    assertEquals(List.of(), indices(locations(5, 4, 3)));
    assertEquals(List.of(), indices(locations(5, 0, 0)));
    assertEquals(List.of(2), indices(locations(6, 0, -1)), "count is unsigned: 2^32-1 chunks");
  }

  @Test
  void highIndicesSortAfterLowOnes() {
    ok(allocate(chunk(5, -1), ALL, ALL, 1, 1)); // index 2^32-1
    ok(allocate(chunk(5, 1), ALL, ALL, 1, 1));
    assertEquals(List.of(1, -1), indices(locations(5, 1, -1)), "[1, 2^32) holds both");
    assertEquals(List.of(1), indices(locations(5, 0, -1)), "[0, 2^32-1) stops before the last");
  }

  @Test
  void listChunksPagesAcrossInodes() {
    List<ChunkId> expected = new ArrayList<>();
    for (long ino = 3; ino <= 5; ino++) {
      for (int index = 0; index < 4; index++) {
        ok(allocate(chunk(ino, index), ALL, ALL, 2, 1));
        expected.add(chunk(ino, index));
      }
    }
    List<ChunkId> seen = new ArrayList<>();
    long startInode = 0;
    int startIndex = 0;
    int pages = 0;
    while (true) {
      MetaResponse page = ok(ns.read(MetaRequest.newBuilder().setListChunks(ListChunksOp.newBuilder()
          .setStartInode(startInode).setStartIndex(startIndex).setLimit(5))));
      pages++;
      page.getLocationsList().forEach(l -> seen.add(l.getChunk()));
      if (!page.getMoreChunks()) {
        break;
      }
      assertEquals(5, page.getLocationsCount());
      ChunkId last = page.getLocations(4).getChunk();
      startInode = last.getInode();
      startIndex = last.getIndex() + 1;
    }
    assertEquals(expected, seen);
    assertEquals(3, pages);

    MetaResponse whole = ok(ns.read(MetaRequest.newBuilder().setListChunks(ListChunksOp.getDefaultInstance())));
    assertEquals(12, whole.getLocationsCount(), "limit 0 is the default page of 1000");
    assertFalse(whole.getMoreChunks());
  }

  @Test
  void checkReplicasNamesAbsentChunksAndChunksWithoutTheMember() {
    ok(allocate(chunk(5, 0), ALL, ALL, 2, 1)); // m1, m2
    ok(allocate(chunk(5, 1), List.of("m3", "m1"), ALL, 2, 1)); // m3, m1
    ok(allocate(chunk(6, 0), List.of("m2", "m3"), ALL, 2, 1)); // m2, m3
    ChunkLocation keptOld = held(5, 0, 0); // a replica, behind on versions: not garbage
    ChunkLocation keptCurrent = held(5, 1, 1);
    ChunkLocation notMine = held(6, 0, 1);
    ChunkLocation absent = held(9, 4, 3);
    MetaResponse answer = ok(ns.read(MetaRequest.newBuilder().setCheckReplicas(CheckReplicasOp.newBuilder()
        .setMember("m1").addHeld(keptOld).addHeld(notMine).addHeld(keptCurrent).addHeld(absent))));
    assertEquals(List.of(notMine, absent), answer.getLocationsList());
    assertStatus(Status.EINVAL, ns.read(MetaRequest.newBuilder().setCheckReplicas(
        CheckReplicasOp.newBuilder().addHeld(absent))));
  }

  @Test
  void chunkReadsGoAroundTheLog() {
    assertTrue(Namespace.isReadOnly(MetaRequest.newBuilder()
        .setGetChunkLocations(GetChunkLocationsOp.getDefaultInstance()).build()));
    assertTrue(Namespace.isReadOnly(MetaRequest.newBuilder()
        .setListChunks(ListChunksOp.getDefaultInstance()).build()));
    assertTrue(Namespace.isReadOnly(MetaRequest.newBuilder()
        .setCheckReplicas(CheckReplicasOp.getDefaultInstance()).build()));
    assertFalse(Namespace.isReadOnly(MetaRequest.newBuilder()
        .setAllocateChunk(AllocateChunkOp.getDefaultInstance()).build()));
    assertFalse(Namespace.isReadOnly(MetaRequest.newBuilder()
        .setReportReplicaFailure(ReportReplicaFailureOp.getDefaultInstance()).build()));
    assertFalse(Namespace.isReadOnly(MetaRequest.newBuilder()
        .setAddReplica(AddReplicaOp.getDefaultInstance()).build()));
    assertFalse(Namespace.isReadOnly(MetaRequest.newBuilder()
        .setFenceChunk(FenceChunkOp.getDefaultInstance()).build()));
    assertStatus(Status.EINVAL, ns.read(MetaRequest.newBuilder()
        .setAllocateChunk(AllocateChunkOp.newBuilder().setChunk(chunk(5, 0)))));
  }

  // ------------------------------------------------------------------ purge, stats, determinism

  @Test
  void theGarbageRecordNamesEveryHolderAndOnlyTheLastPurgeForgetsTheChunks() {
    long f = ns.file(ROOT, "f");
    long g = ns.file(ROOT, "g");
    for (int index = 0; index < 3; index++) {
      ok(allocate(chunk(f, index), ALL, ALL, 3, 2));
    }
    ok(allocate(chunk(f, 1), List.of("m1", "m4"), List.of("m1", "m2", "m4"), 3, 2)); // m3 dropped
    ok(fence(chunk(f, 1), 2, true)); // a copy to m4: fenced at 3, added
    ok(add(chunk(f, 1), 3, "m4"));
    ok(allocate(chunk(g, 0), ALL, ALL, 3, 2));
    assertEquals(4, chunkCount());
    ok(ns.unlink(ROOT, "f"));
    assertEquals(List.of("m1", "m2", "m3", "m4"), garbageOf(f).getHoldersList(),
        "every member any chunk of f lists, sorted");

    ok(purge("m2", f, f)); // a duplicate inode counts once
    assertEquals(List.of("m1", "m3", "m4"), garbageOf(f).getHoldersList());
    assertEquals(3, locations(f, 0, -1).size(), "m1, m3 and m4 still need the map's word");
    ok(purge("m2", f)); // again: nothing changes
    ok(purge("m9", f)); // not a holder: nothing changes
    ok(purge("m1", f, g)); // g is a live file: not garbage, left alone
    ok(purge("m3", f));
    assertEquals(List.of("m4"), garbageOf(f).getHoldersList());
    assertEquals(4, chunkCount());

    ok(purge("m4", f)); // the last holder: the record and f's chunks go
    assertEquals(null, garbageOf(f));
    assertEquals(List.of(), locations(f, 0, -1));
    assertEquals(1, locations(g, 0, -1).size());
    assertEquals(1, chunkCount());
    int kKeys = ns.kv.read(reader -> {
      int[] count = {0};
      reader.scan(KeySchema.chunkPrefix(f), KeySchema.chunkPrefix(f), (k, v) -> ++count[0] > 0);
      return count[0];
    });
    assertEquals(0, kKeys);
    assertStatus(Status.EINVAL, ns.apply(MetaRequest.newBuilder()
        .setPurge(PurgeOp.newBuilder().addInodes(g))));
  }

  @Test
  void aFileWithoutChunksLeavesNoGarbage() {
    long f = ns.file(ROOT, "f");
    long g = ns.file(ROOT, "g");
    ok(allocate(chunk(g, 0), ALL, ALL, 3, 2));
    ok(ns.unlink(ROOT, "f"));
    ok(ns.unlink(ROOT, "g"));
    assertEquals(null, garbageOf(f), "no holder would ever purge it: no record to page through");
    assertEquals(List.of("m1", "m2", "m3"), garbageOf(g).getHoldersList());
    ok(purge("m1", f)); // a purge of an inode without a record changes nothing
    assertEquals(null, garbageOf(f));
  }

  @Test
  void aRenameOverAFileWithChunksLeavesItsGarbage() {
    long a = ns.file(ROOT, "a");
    long b = ns.file(ROOT, "b");
    ok(allocate(chunk(b, 0), ALL, ALL, 3, 2));
    assertEquals(b, ok(ns.rename(ROOT, "a", ROOT, "b", 0)).getFreedInode());
    assertEquals(List.of("m1", "m2", "m3"), garbageOf(b).getHoldersList());
    assertEquals(null, garbageOf(a));
  }

  @Test
  void garbageIsListedInPagesFromAStartInode() {
    List<Long> freed = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      long f = ns.file(ROOT, "f" + i);
      ok(allocate(chunk(f, 0), ALL, ALL, 3, 2));
      ok(ns.unlink(ROOT, "f" + i));
      freed.add(f);
    }
    List<GarbageInode> first = listGarbage(0, 2);
    assertEquals(freed.subList(0, 2), first.stream().map(GarbageInode::getInode).toList());
    List<GarbageInode> rest = listGarbage(first.get(1).getInode() + 1, 10);
    assertEquals(freed.subList(2, 5), rest.stream().map(GarbageInode::getInode).toList());
    assertEquals(List.of("m1", "m2", "m3"), rest.get(0).getHoldersList());
  }

  @Test
  void chunkCountFollowsCreatesOnly() {
    assertEquals(0, chunkCount());
    ok(allocate(chunk(5, 0), ALL, ALL, 3, 2));
    ok(allocate(chunk(5, 1), ALL, ALL, 3, 2));
    ok(allocate(chunk(5, 1), List.of("m1", "m2"), List.of("m1", "m2"), 3, 2)); // drops m3
    ok(report(chunk(5, 0), 1, "m1"));
    ok(fence(chunk(5, 0), 2, true));
    ok(add(chunk(5, 0), 3, "m4"));
    assertEquals(2, chunkCount());
  }

  @Test
  void sameOpsGiveSameBytes() throws IOException {
    try (NamespaceFixture twin = new NamespaceFixture(tmp.resolve("twin"))) {
      for (NamespaceFixture n : List.of(ns, twin)) {
        long f = n.file(ROOT, "f");
        for (int index = 0; index < 3; index++) {
          ok(n.apply(allocateRequest(chunk(f, index), ALL, ALL, 3, 2)));
        }
        n.apply(allocateRequest(chunk(f, 1), List.of("m1", "m4"), List.of("m1", "m2", "m4"), 3, 2));
        n.apply(reportRequest(chunk(f, 0), 1, "m2"));
        n.apply(fenceRequest(chunk(f, 0), 2, true));
        n.apply(addRequest(chunk(f, 0), 3, "m4"));
        n.apply(fenceRequest(chunk(f, 2), 1, true));
        n.apply(fenceRequest(chunk(f, 2), 2, false));
        n.apply(addRequest(chunk(f, 2), 7, "m4"));
        n.apply(MetaRequest.newBuilder().setPurge(PurgeOp.newBuilder().setMember("m1")
            .addInodes(f + 1)));
        ok(n.unlink(ROOT, "f"));
        n.apply(MetaRequest.newBuilder().setPurge(PurgeOp.newBuilder().setMember("m2")
            .addInodes(f)));
      }
      assertEquals(ns.dump(), twin.dump());
      assertNotEquals(List.of(), ns.dump());
    }
  }

  @Test
  void keysAreTheKPrefixInodeAndBigEndianIndex() {
    assertArrayEquals(new byte[] {'K', 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 1, 0},
        KeySchema.chunk(0x102, 0x100));
    assertEquals(0x102, KeySchema.inodeOf(KeySchema.chunk(0x102, 7)));
    assertEquals(-2, KeySchema.chunkIndexOf(KeySchema.chunk(3, -2)));
  }

  // ------------------------------------------------------------------ helpers

  static ChunkId chunk(long inode, int index) {
    return ChunkId.newBuilder().setInode(inode).setIndex(index).build();
  }

  static ChunkLocation held(long inode, int index, long version) {
    return ChunkLocation.newBuilder().setChunk(chunk(inode, index)).setVersion(version).build();
  }

  static MetaRequest.Builder allocateRequest(ChunkId chunk, List<String> candidates, List<String> live,
      int replication, int minReplicas) {
    return MetaRequest.newBuilder().setAllocateChunk(AllocateChunkOp.newBuilder()
        .setChunk(chunk).addAllCandidates(candidates).addAllLive(live)
        .setReplication(replication).setMinReplicas(minReplicas));
  }

  static MetaRequest.Builder reportRequest(ChunkId chunk, long version, String member) {
    return MetaRequest.newBuilder().setReportReplicaFailure(ReportReplicaFailureOp.newBuilder()
        .setChunk(chunk).setVersion(version).setMember(member));
  }

  static MetaRequest.Builder addRequest(ChunkId chunk, long version, String member) {
    return MetaRequest.newBuilder().setAddReplica(AddReplicaOp.newBuilder()
        .setChunk(chunk).setVersion(version).setMember(member));
  }

  private MetaResponse allocate(ChunkId chunk, List<String> candidates, List<String> live,
      int replication, int minReplicas) {
    return ns.apply(allocateRequest(chunk, candidates, live, replication, minReplicas));
  }

  private MetaResponse report(ChunkId chunk, long version, String member) {
    return ns.apply(reportRequest(chunk, version, member));
  }

  static MetaRequest.Builder fenceRequest(ChunkId chunk, long version, boolean fence) {
    return MetaRequest.newBuilder().setFenceChunk(FenceChunkOp.newBuilder()
        .setChunk(chunk).setVersion(version).setFence(fence));
  }

  private MetaResponse fence(ChunkId chunk, long version, boolean fence) {
    return ns.apply(fenceRequest(chunk, version, fence));
  }

  private MetaResponse add(ChunkId chunk, long version, String member) {
    return ns.apply(addRequest(chunk, version, member));
  }

  private List<ChunkLocation> locations(long inode, int first, int count) {
    return ok(ns.read(MetaRequest.newBuilder().setGetChunkLocations(GetChunkLocationsOp.newBuilder()
        .setInode(inode).setFirstIndex(first).setCount(count)))).getLocationsList();
  }

  private MetaResponse purge(String member, long... inodes) {
    PurgeOp.Builder op = PurgeOp.newBuilder().setMember(member);
    for (long ino : inodes) {
      op.addInodes(ino);
    }
    return ns.apply(MetaRequest.newBuilder().setPurge(op));
  }

  /** The garbage record of {@code ino}, or null. */
  private GarbageInode garbageOf(long ino) {
    return listGarbage(0, 0).stream().filter(g -> g.getInode() == ino).findFirst().orElse(null);
  }

  private List<GarbageInode> listGarbage(long start, int limit) {
    return ok(ns.read(MetaRequest.newBuilder().setListGarbage(
        ListGarbageOp.newBuilder().setStartInode(start).setLimit(limit)))).getGarbageList();
  }

  private long chunkCount() {
    return ok(ns.read(MetaRequest.newBuilder().setNamespaceStats(NamespaceStatsOp.getDefaultInstance())))
        .getChunkCount();
  }

  private static ChunkLocation location(MetaResponse response) {
    assertEquals(1, response.getLocationsCount(), response.toString());
    return response.getLocations(0);
  }

  private static List<Integer> indices(List<ChunkLocation> locations) {
    return locations.stream().map(l -> l.getChunk().getIndex()).toList();
  }
}
