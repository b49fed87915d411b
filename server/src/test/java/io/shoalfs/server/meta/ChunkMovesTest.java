package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.ChunkMapTest.allocateRequest;
import static io.shoalfs.server.meta.ChunkMapTest.chunk;
import static io.shoalfs.server.meta.NamespaceFixture.ROOT;
import static io.shoalfs.server.meta.NamespaceFixture.assertStatus;
import static io.shoalfs.server.meta.NamespaceFixture.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.GarbageInode;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.ListGarbageOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.MoveChunksOp;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** move_chunks over a real RocksDB store, through {@link Namespace} as the state machine runs it. */
class ChunkMovesTest {
  static final int CHUNK = 1 << 20;
  static final List<String> ALL = List.of("m1", "m2", "m3", "m4");

  @TempDir Path tmp;
  NamespaceFixture ns;

  @BeforeEach
  void open() throws IOException {
    ns = new NamespaceFixture(tmp.resolve("db"), new ModePermissions());
    // Everyone may make files at the root; who may move what is then up to the files' modes.
    ok(ns.apply(MetaRequest.newBuilder().setCaller(Caller.getDefaultInstance())
        .setSetAttr(SetAttrOp.newBuilder().setInode(ROOT).setValid(NamespaceWrites.SET_MODE)
            .setMode(0777).setNowNs(ns.now()))));
  }

  @AfterEach
  void close() {
    ns.close();
  }

  @Test
  void everyChunkMovesToTheTargetsEndWithItsVersionAndReplicas() {
    long target = fileOfChunks("object", 1);
    long source = fileOfChunks("part", 2);
    // Chunk 1 of the part lost m1 along the way: its version is 2, not 1.
    ok(ns.apply(allocateRequest(chunk(source, 1), ALL, List.of("m2", "m3", "m4"), 3, 2)));
    List<ChunkLocation> before = locations(source);
    long count = chunkCount();

    MetaResponse moved = ok(ns.apply(move(source, target, 1, before)));

    List<ChunkLocation> after = locations(target);
    assertEquals(3, after.size());
    for (int i = 0; i < 2; i++) {
      ChunkLocation was = before.get(i);
      ChunkLocation now = after.get(1 + i);
      assertEquals(chunk(target, 1 + i), now.getChunk());
      assertEquals(was.getVersion(), now.getVersion(), "the version travels with the chunk");
      assertEquals(was.getReplicasList(), now.getReplicasList(), "so do its replicas, in order");
    }
    assertEquals(after.subList(1, 3), moved.getLocationsList());
    assertEquals(List.of(), locations(source), "the source keeps no chunk");
    assertEquals(count, chunkCount(), "moved, not added or removed");
    assertEquals(3L * CHUNK, ns.attr(target).getSize());
    assertEquals(3L * CHUNK, moved.getAttr().getSize());
    assertEquals(0, ns.attr(source).getSize(), "the source is empty");
  }

  @Test
  void theSourcesRemovalLeavesTheMovedChunksToTheTarget() {
    long target = fileOfChunks("object", 0);
    long source = fileOfChunks("part", 2);
    ok(ns.apply(move(source, target, 0, locations(source))));
    ok(ns.unlink(ROOT, "part"));
    GarbageInode garbage = listGarbage().stream().filter(g -> g.getInode() == source)
        .findFirst().orElse(null);
    // No holder to reap anything for the source: what its chunks were is the target's now.
    assertEquals(List.of(), garbage == null ? List.of() : garbage.getHoldersList());
    assertEquals(2, locations(target).size());
    ok(ns.unlink(ROOT, "object"));
    GarbageInode targetGarbage = listGarbage().stream().filter(g -> g.getInode() == target)
        .findFirst().orElseThrow();
    assertEquals(List.of("m1", "m2", "m3"), targetGarbage.getHoldersList(),
        "the target's garbage names the moved chunks' replicas");
  }

  @Test
  void aVersionThatMovedOnRefusesTheWholeMove() {
    long target = fileOfChunks("object", 0);
    long source = fileOfChunks("part", 3);
    List<ChunkLocation> linked = locations(source);
    // A replica of the last chunk dropped after the data nodes linked it: the new chain might
    // name a node without the target's name.
    ok(ns.apply(allocateRequest(chunk(source, 2), ALL, List.of("m1", "m2"), 3, 2)));
    List<String> before = ns.dump();
    MetaResponse refused = ns.apply(move(source, target, 0, linked));
    assertStatus(Status.STALE_VERSION, refused);
    assertEquals(2, refused.getLocations(0).getVersion(), "the answer says where the chunk is now");
    assertEquals(before, ns.dump(), "no chunk moved, nothing changed");
  }

  @Test
  void aChunkTheHealerIsCopyingIsNotMoved() {
    long target = fileOfChunks("object", 0);
    long source = fileOfChunks("part", 1);
    ok(ns.apply(ChunkMapTest.fenceRequest(chunk(source, 0), 1, true)));
    List<ChunkLocation> fenced = locations(source);
    assertStatus(Status.STALE_VERSION, ns.apply(move(source, target, 0, fenced)));
    assertEquals(1, locations(source).size());
  }

  @Test
  void layoutsOtherThanWholeChunksAtTheTargetsEndAreRefused() {
    long target = fileOfChunks("object", 1);
    long source = fileOfChunks("part", 2);
    List<ChunkLocation> held = locations(source);
    List<String> before = ns.dump();
    assertStatus(Status.EINVAL, ns.apply(move(source, target, 2, held)),
        "not at the target's end");
    assertStatus(Status.EINVAL, ns.apply(move(source, target, 1, held.subList(0, 1))),
        "not every chunk of the source");
    assertStatus(Status.EINVAL, ns.apply(move(source, source, 0, held)), "into itself");
    assertStatus(Status.EINVAL, ns.apply(move(source, target, 1, held).setMoveChunks(
        move(source, target, 1, held).getMoveChunks().toBuilder().setChunkSize(0))),
        "without the chunk size");
    assertEquals(before, ns.dump(), "nothing changed");
    ok(ns.apply(commit(source, 2L * CHUNK - 1, true)));
    assertStatus(Status.EINVAL, ns.apply(move(source, target, 1, held)),
        "a source that is not whole chunks");
    ok(ns.apply(commit(source, 2L * CHUNK, false)));
    long dir = ns.dir(ROOT, "d");
    assertStatus(Status.EISDIR, ns.apply(move(dir, target, 1, held)));
    assertStatus(Status.ENOENT, ns.apply(move(9999, target, 1, held)));
  }

  @Test
  void aTargetChunkInTheRangeOrASourceHoleIsRefused() {
    long target = fileOfChunks("object", 1);
    // A chunk past the target's end (allocated, never committed) is in the way.
    ok(ns.apply(allocateRequest(chunk(target, 2), ALL, ALL, 3, 2)));
    long source = fileOfChunks("part", 2);
    assertStatus(Status.EEXIST, ns.apply(move(source, target, 1, locations(source))));
    long holed = ns.file(ROOT, "holed");
    ok(ns.apply(allocateRequest(chunk(holed, 1), ALL, ALL, 3, 2)));
    ok(ns.apply(commit(holed, 2L * CHUNK, false)));
    assertStatus(Status.ENOENT, ns.apply(move(holed, fileOfChunks("other", 0), 0,
        List.of(ChunkLocation.newBuilder().setVersion(1).build(),
            ChunkLocation.newBuilder().setVersion(1).build()))));
  }

  @Test
  void theCallerMustBeAllowedToWriteBothFiles() {
    long target = fileOfChunks("object", 0);
    long source = fileOfChunks("part", 1);
    Caller other = Caller.newBuilder().setUid(2000).setGid(200).build();
    assertStatus(Status.EACCES, ns.apply(move(source, target, 0, locations(source)).setCaller(other)));
    ok(ns.apply(MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder().setInode(source)
        .setValid(NamespaceWrites.SET_MODE).setMode(0444).setNowNs(ns.now()))));
    assertStatus(Status.EACCES, ns.apply(move(source, target, 0, locations(source))),
        "the source is read-only, even for its owner");
    ok(ns.apply(move(source, target, 0, locations(source)).setCaller(Caller.getDefaultInstance())));
  }

  // ------------------------------------------------------------------ helpers

  /** A file of {@code chunks} whole chunks, each on m1..m3 at version 1. */
  private long fileOfChunks(String name, int chunks) {
    long f = ns.file(ROOT, name);
    for (int i = 0; i < chunks; i++) {
      ok(ns.apply(allocateRequest(chunk(f, i), ALL, ALL, 3, 2)));
    }
    if (chunks > 0) {
      ok(ns.apply(commit(f, (long) chunks * CHUNK, false)));
    }
    return f;
  }

  /** commit_write to {@code end}; with {@code shrink}, a truncate to it first. */
  private MetaRequest.Builder commit(long inode, long end, boolean shrink) {
    if (shrink) {
      return MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder().setInode(inode)
          .setValid(NamespaceWrites.SET_SIZE).setSize(end).setNowNs(ns.now()));
    }
    return MetaRequest.newBuilder().setCommitWrite(CommitWriteOp.newBuilder().setInode(inode)
        .setEndOffset(end).setNowNs(ns.now()));
  }

  private MetaRequest.Builder move(long source, long target, int targetIndex,
      List<ChunkLocation> linked) {
    MoveChunksOp.Builder op = MoveChunksOp.newBuilder().setSource(source).setTarget(target)
        .setTargetIndex(targetIndex).setChunkSize(CHUNK).setNowNs(ns.now());
    linked.forEach(l -> op.addVersions(l.getVersion()));
    return MetaRequest.newBuilder().setMoveChunks(op);
  }

  private List<ChunkLocation> locations(long inode) {
    return ok(ns.read(MetaRequest.newBuilder().setGetChunkLocations(GetChunkLocationsOp.newBuilder()
        .setInode(inode).setFirstIndex(0).setCount(100)))).getLocationsList();
  }

  private List<GarbageInode> listGarbage() {
    return ok(ns.read(MetaRequest.newBuilder().setListGarbage(ListGarbageOp.newBuilder())))
        .getGarbageList();
  }

  private long chunkCount() {
    return ok(ns.read(MetaRequest.newBuilder().setNamespaceStats(NamespaceStatsOp.getDefaultInstance())))
        .getChunkCount();
  }
}
