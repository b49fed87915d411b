package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.shoalfs.proto.MemberState.DEAD;
import static io.shoalfs.proto.MemberState.DOWN;
import static io.shoalfs.proto.MemberState.UP;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.LeaseInodesOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.PurgeOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The placing decorator. Its delegate here is a recorder (what matters is the request the
 * decorator hands on), and in one test the real namespace on RocksDB.
 */
class PlacingControlPlaneTest {

  static final long GIB = 1L << 30;

  @TempDir Path tmp;

  @Test
  void allocateGetsUpMembersInPlacementOrderAndTheCappedFactors() {
    Recorder recorder = new Recorder();
    List<MemberInfo> members = List.of(
        member("a", UP, 10 * GIB),
        member("b", DOWN, 500 * GIB),
        member("c", UP, 50 * GIB),
        member("d", DEAD, 900 * GIB),
        member("e", UP, 50 * GIB + 12345)); // same 1 GiB bucket as c
    PlacingControlPlane plane = new PlacingControlPlane(recorder, view(members), 3, 2);
    MetaRequest sent = MetaRequest.newBuilder().setClientId(9).setRequestSeq(4)
        .setAllocateChunk(AllocateChunkOp.newBuilder().setChunk(chunk(7, 2))
            .addCandidates("client-must-not-choose").setReplication(99))
        .build();
    plane.submit(sent);
    AllocateChunkOp op = recorder.last().getAllocateChunk();
    assertEquals(chunk(7, 2), op.getChunk());
    List<String> candidates = op.getCandidatesList();
    assertEquals(3, candidates.size(), "only up members: " + candidates);
    assertEquals("a", candidates.get(2), "the fullest up member comes last");
    assertEquals(List.of("c", "e"), candidates.subList(0, 2).stream().sorted().toList());
    assertEquals(ChunkPlacement.order(List.of(members.get(2), members.get(4)), chunk(7, 2)),
        candidates.subList(0, 2), "a tie in the bucket goes to the rendezvous hash");
    assertEquals(List.of("a", "c", "e"), op.getLiveList());
    assertEquals(3, op.getReplication());
    assertEquals(2, op.getMinReplicas());
    assertEquals(9, recorder.last().getClientId(), "the rest of the request is untouched");
    assertEquals(4, recorder.last().getRequestSeq());
  }

  @Test
  void factorsAreCappedAtTheKnownMembers() {
    Recorder recorder = new Recorder();
    List<MemberInfo> members = List.of(member("solo", UP, GIB));
    new PlacingControlPlane(recorder, view(members), 3, 2).submit(allocate(chunk(1, 0)));
    AllocateChunkOp op = recorder.last().getAllocateChunk();
    assertEquals(List.of("solo"), op.getCandidatesList());
    assertEquals(1, op.getReplication());
    assertEquals(1, op.getMinReplicas());

    // Down members still count as known: the factor stays, fewer candidates are offered.
    List<MemberInfo> two = List.of(member("x", UP, GIB), member("y", DOWN, GIB));
    new PlacingControlPlane(recorder, view(two), 3, 3).submit(allocate(chunk(1, 0)));
    op = recorder.last().getAllocateChunk();
    assertEquals(List.of("x"), op.getCandidatesList());
    assertEquals(2, op.getReplication());
    assertEquals(2, op.getMinReplicas());
    assertThrows(IllegalArgumentException.class,
        () -> new PlacingControlPlane(recorder, ClusterView::empty, 0, 1));
  }

  @Test
  void aMemberThatServesMetadataOnlyNeverGetsAChunk() {
    Recorder recorder = new Recorder();
    // The metadata servers are the emptiest by far: were they data nodes, they would come first.
    List<MemberInfo> members = List.of(
        role(member("meta1", UP, 900 * GIB), MemberRole.METADATA),
        role(member("meta2", UP, 900 * GIB), MemberRole.METADATA),
        role(member("d1", UP, 10 * GIB), MemberRole.DATA),
        role(member("d2", UP, 20 * GIB), MemberRole.DATA),
        role(member("d3", DOWN, 30 * GIB), MemberRole.DATA),
        member("both", UP, 5 * GIB)); // lists no role: converged, a data node too
    PlacingControlPlane plane = new PlacingControlPlane(recorder, view(members), 5, 1);
    for (int index = 0; index < 50; index++) {
      plane.submit(allocate(chunk(11, index)));
      AllocateChunkOp op = recorder.last().getAllocateChunk();
      assertEquals(List.of("d2", "d1", "both"), op.getCandidatesList(), "emptier data node first");
      assertEquals(List.of("both", "d1", "d2"), op.getLiveList());
      assertEquals(4, op.getReplication(), "capped at the four data nodes, one of them down");
    }
    plane.submit(MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder().setParent(1)
        .setName("f").setType(FileType.REGULAR)
        .setFirstChunk(AllocateChunkOp.getDefaultInstance())).build());
    assertEquals(List.of("both", "d1", "d2"),
        recorder.last().getMakeNode().getFirstChunk().getCandidatesList().stream().sorted()
            .toList(), "a create's first chunk too");
    plane.submit(MetaRequest.newBuilder().setLeaseInodes(LeaseInodesOp.newBuilder().setCount(1))
        .build());
    assertEquals(4, recorder.last().getLeaseInodes().getReplication(),
        "a mount placing its own chunks gets the factor of the data nodes");

    // Metadata servers only: no candidate at all, rather than a chunk on one of them.
    List<MemberInfo> metaOnly = members.subList(0, 2);
    new PlacingControlPlane(recorder, view(metaOnly), 3, 1)
        .submit(allocate(chunk(12, 0)));
    assertEquals(List.of(), recorder.last().getAllocateChunk().getCandidatesList());
    assertEquals(List.of(), recorder.last().getAllocateChunk().getLiveList());
  }

  @Test
  void aCreateThatAsksForItsFirstChunkGetsItFilledAndOtherCreatesPassThrough() {
    Recorder recorder = new Recorder();
    List<MemberInfo> members = List.of(
        member("a", UP, 10 * GIB), member("b", DOWN, 10 * GIB), member("c", UP, 10 * GIB));
    PlacingControlPlane plane = new PlacingControlPlane(recorder, view(members), 3, 2);
    MakeNodeOp create = MakeNodeOp.newBuilder().setParent(1).setName("f")
        .setType(FileType.REGULAR).setMode(0644).build();
    MetaRequest plain = MetaRequest.newBuilder().setMakeNode(create).build();
    plane.submit(plain);
    assertSame(plain, recorder.last(), "no first_chunk: nothing to place");

    plane.submit(MetaRequest.newBuilder().setRequestSeq(5).setMakeNode(create.toBuilder()
        .setFirstChunk(AllocateChunkOp.getDefaultInstance())).build());
    MakeNodeOp sent = recorder.last().getMakeNode();
    assertEquals(create, sent.toBuilder().clearFirstChunk().build(), "the create is untouched");
    AllocateChunkOp first = sent.getFirstChunk();
    assertEquals(List.of("a", "c"), first.getCandidatesList().stream().sorted().toList(),
        "up members only");
    assertEquals(List.of("a", "c"), first.getLiveList());
    assertEquals(3, first.getReplication());
    assertEquals(2, first.getMinReplicas());
    assertEquals(5, recorder.last().getRequestSeq());
  }

  @Test
  void anInodeLeaseGetsTheCappedFactorsForTheChunksTheMountPlaces() {
    Recorder recorder = new Recorder();
    List<MemberInfo> two = List.of(member("x", UP, GIB), member("y", DOWN, GIB));
    MetaRequest lease = MetaRequest.newBuilder().setClientId(3).setRequestSeq(8)
        .setLeaseInodes(LeaseInodesOp.newBuilder().setCount(100).setReplication(99)).build();
    new PlacingControlPlane(recorder, view(two), 3, 3).submit(lease);
    LeaseInodesOp sent = recorder.last().getLeaseInodes();
    assertEquals(100, sent.getCount(), "the count is the mount's");
    assertEquals(2, sent.getReplication(), "capped at the known members");
    assertEquals(2, sent.getMinReplicas());
    assertEquals(8, recorder.last().getRequestSeq());
  }

  @Test
  void otherRequestsAndLifecyclePassThrough() throws Exception {
    Recorder recorder = new Recorder();
    PlacingControlPlane plane = new PlacingControlPlane(recorder, () -> {
      throw new AssertionError("membership is only asked for allocate_chunk");
    }, 3, 2);
    MetaRequest purge = MetaRequest.newBuilder().setPurge(PurgeOp.newBuilder().addInodes(4)).build();
    plane.submit(purge);
    assertSame(purge, recorder.last());
    plane.start();
    assertEquals(Optional.of("leader-x"), plane.leaderId());
    plane.close();
    assertEquals(List.of("start", "close"), recorder.lifecycle);
  }

  @Test
  void chunksSpreadOverFourEquallyFreeMembers() {
    List<MemberInfo> members = List.of(
        member("s1", UP, 100 * GIB), member("s2", UP, 100 * GIB + 7),
        member("s3", UP, 100 * GIB + GIB / 2), member("s4", UP, 100 * GIB));
    Map<String, Integer> heads = new HashMap<>();
    Map<String, Integer> holdings = new HashMap<>();
    int chunks = 0;
    for (long ino = 2; ino < 22; ino++) {
      for (int index = 0; index < 40; index++) {
        List<String> order = ChunkPlacement.order(members, chunk(ino, index));
        assertEquals(4, order.size());
        heads.merge(order.get(0), 1, Integer::sum);
        order.subList(0, 3).forEach(id -> holdings.merge(id, 1, Integer::sum));
        chunks++;
      }
    }
    assertEquals(4, heads.size(), "every member leads some chains: " + heads);
    for (int n : heads.values()) {
      assertTrue(n > chunks / 4 * 0.7 && n < chunks / 4 * 1.3, "heads " + heads);
    }
    for (int n : holdings.values()) {
      assertTrue(n > chunks * 3 / 4 * 0.85 && n < chunks * 3 / 4 * 1.15, "holdings " + holdings);
    }
    // One file's consecutive chunks do not all start at the same member either.
    List<String> firstFile = new ArrayList<>();
    for (int index = 0; index < 8; index++) {
      firstFile.add(ChunkPlacement.order(members, chunk(2, index)).get(0));
    }
    assertTrue(firstFile.stream().distinct().count() > 1, "one file: " + firstFile);
  }

  @Test
  void emptierMembersComeFirst() {
    List<MemberInfo> members = List.of(member("full", UP, 0), member("half", UP, 5 * GIB),
        member("empty", UP, 10 * GIB));
    for (int index = 0; index < 20; index++) {
      assertEquals(List.of("empty", "half", "full"), ChunkPlacement.order(members, chunk(3, index)));
    }
  }

  @Test
  void placedAllocationCreatesTheChunkInTheRealNamespace() throws Exception {
    try (NamespaceFixture ns = new NamespaceFixture(tmp.resolve("db"))) {
      ControlPlaneOrchestrator applying = new Recorder() {
        @Override
        public CompletableFuture<MetaResponse> submit(MetaRequest request) {
          return CompletableFuture.completedFuture(ns.apply(request.toBuilder()));
        }
      };
      List<MemberInfo> members = new ArrayList<>(List.of(member("s1", UP, GIB),
          member("s2", UP, GIB), member("s3", UP, GIB)));
      PlacingControlPlane plane = new PlacingControlPlane(applying, view(members), 2, 2);
      MetaResponse created = plane.submit(allocate(chunk(5, 0))).get();
      assertEquals(Status.OK, created.getStatus(), created.getError());
      List<String> replicas = created.getLocations(0).getReplicasList();
      assertEquals(ChunkPlacement.order(members, chunk(5, 0)).subList(0, 2), replicas);

      // One replica's member goes down: the next allocate drops it, leaving 1 < min 2.
      String lost = replicas.get(1);
      members.replaceAll(m -> m.getId().equals(lost) ? m.toBuilder().setState(DOWN).build() : m);
      MetaResponse refused = plane.submit(allocate(chunk(5, 0))).get();
      assertEquals(Status.UNAVAILABLE, refused.getStatus());
    }
  }

  // ------------------------------------------------------------------ helpers

  static ChunkId chunk(long inode, int index) {
    return ChunkId.newBuilder().setInode(inode).setIndex(index).build();
  }

  static MetaRequest allocate(ChunkId chunk) {
    return MetaRequest.newBuilder().setAllocateChunk(AllocateChunkOp.newBuilder().setChunk(chunk)).build();
  }

  static Supplier<ClusterView> view(List<MemberInfo> members) {
    return () -> ClusterView.of(members);
  }

  static MemberInfo role(MemberInfo member, MemberRole role) {
    return member.toBuilder().addRoles(role).build();
  }

  static MemberInfo member(String id, MemberState state, long freeBytes) {
    return MemberInfo.newBuilder().setId(id).setAddress(id + ":1").setState(state)
        .setCapacityBytes(1000 * GIB).setFreeBytes(freeBytes).build();
  }

  /** A control plane that records what it is asked and answers OK. */
  static class Recorder implements ControlPlaneOrchestrator {
    final List<String> lifecycle = new ArrayList<>();
    private final AtomicReference<MetaRequest> last = new AtomicReference<>();

    MetaRequest last() {
      return last.get();
    }

    @Override
    public void start() {
      lifecycle.add("start");
    }

    @Override
    public CompletableFuture<MetaResponse> submit(MetaRequest request) {
      last.set(request);
      return CompletableFuture.completedFuture(MetaResponse.newBuilder().setStatus(Status.OK).build());
    }

    @Override
    public Optional<String> leaderId() {
      return Optional.of("leader-x");
    }

    @Override
    public void close() {
      lifecycle.add("close");
    }
  }
}
