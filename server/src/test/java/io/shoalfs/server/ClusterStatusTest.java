package io.shoalfs.server;

import static io.shoalfs.proto.MemberState.DOWN;
import static io.shoalfs.proto.MemberState.UP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.ChunkCounts;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.server.data.DownstreamClients;
import io.shoalfs.server.data.ReplicationManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code shoal status} answers from the counts the metadata leader's healer published, with
 * one metadata read (the namespace counters) and never a page of the chunk map.
 */
class ClusterStatusTest {
  private static final ChunkCounts LAST_PASS = ChunkCounts.newBuilder().setChunks(1200)
      .setUnderReplicated(7).setPassStartedMs(1_000).setPassEndedMs(1_400).build();

  @Test
  void aStatusCallReadsOnlyTheNamespaceCountersNeverTheChunkMap() throws Exception {
    CountingControlPlane control = new CountingControlPlane("s1");
    control.add(location(1, 0, "s1", "s2"));
    List<MemberInfo> members = List.of(member("s1", UP, LAST_PASS), member("s2", UP, null));

    ClusterResponse r = answer(new ClusterStatus(control, () -> ClusterView.of(members), 2));

    assertEquals(Map.of(MetaRequest.OpCase.NAMESPACE_STATS, 1), control.calls());
    assertEquals(Status.OK, r.getStatus());
    assertEquals(LAST_PASS, r.getPassCounts());
    assertEquals(1200, r.getChunkCount(), "the leader's pass, not the one chunk the map holds");
    assertEquals(7, r.getUnderReplicated());
    assertEquals(42, r.getInodeCount());
    assertEquals(77, r.getMetaAppliedIndex(), "the log index, not the answer's stamp");
    assertEquals("s1", r.getMetaLeader());
    assertEquals(2, r.getReplication());
    assertEquals(members, r.getMembersList());
  }

  @Test
  void theCountsAreThoseOfTheHealersLastPassOnTheLeader() throws Exception {
    CountingControlPlane control = new CountingControlPlane("s1");
    control.add(location(1, 0, "s1", "s2"));
    control.add(location(2, 0, "s1", "s3")); // s3 is down: under-replicated, nothing to copy
    control.add(location(2, 1, "s2", "s1"));
    List<MemberInfo> seen = List.of(member("s1", UP, null), member("s2", UP, null),
        member("s3", DOWN, null));
    ReplicationManager healer = new ReplicationManager(control, () -> ClusterView.of(seen),
        () -> true, 2, new DownstreamClients(), java.time.Duration.ofHours(1));
    ReplicationManager.PassReport pass = healer.runOnce();
    healer.close();
    assertTrue(pass.ran());
    assertTrue(control.calls().getOrDefault(MetaRequest.OpCase.LIST_CHUNKS, 0) > 0);

    // The leader s1 publishes the pass in its record; this server (s2) answers from it, after
    // the map has changed: the answer is the pass's, and reading it pages through nothing.
    ChunkCounts published = healer.counts().orElseThrow().published();
    List<MemberInfo> members = List.of(member("s1", UP, published), member("s2", UP, null),
        member("s3", DOWN, null));
    control.add(location(3, 0, "s1", "s2"));
    control.clearCalls();
    ClusterResponse r = answer(new ClusterStatus(control, () -> ClusterView.of(members), 2));

    assertEquals(Map.of(MetaRequest.OpCase.NAMESPACE_STATS, 1), control.calls());
    assertEquals(3, r.getChunkCount());
    assertEquals(1, r.getUnderReplicated());
    assertEquals(published, r.getPassCounts());
    assertTrue(published.getPassStartedMs() > 0
        && published.getPassStartedMs() <= published.getPassEndedMs(), published.toString());
  }

  @Test
  void theAnswerCarriesEachMembersRolesAsPublishedInIdOrder() throws Exception {
    CountingControlPlane control = new CountingControlPlane("m1");
    MemberInfo data = member("d1", UP, null).toBuilder()
        .addRoles(MemberRole.DATA).build();
    MemberInfo meta = member("m1", UP, LAST_PASS).toBuilder()
        .addRoles(MemberRole.METADATA).build();
    MemberInfo both = member("s1", DOWN, null);

    ClusterResponse r = answer(new ClusterStatus(control,
        () -> ClusterView.of(List.of(both, meta, data)), 2));

    assertEquals(List.of(data, meta, both), r.getMembersList());
    assertEquals(LAST_PASS, r.getPassCounts(), "the leader's record is found by its id");
  }

  @Test
  void countsAreUnknownUntilTheCurrentLeadersFirstPassEnds() throws Exception {
    // s1 led and counted, then went down; s2 leads now and has not finished a pass.
    CountingControlPlane control = new CountingControlPlane("s2");
    List<MemberInfo> members = List.of(member("s1", DOWN, LAST_PASS), member("s2", UP, null));

    ClusterResponse r = answer(new ClusterStatus(control, () -> ClusterView.of(members), 3));

    assertEquals(Status.OK, r.getStatus());
    assertFalse(r.hasPassCounts(), "a former leader's counts describe a map it no longer heals");
    assertEquals(0, r.getChunkCount());
    assertEquals(0, r.getUnderReplicated());
    assertEquals("s2", r.getMetaLeader());
  }

  @Test
  void withoutALeaderThereAreNoCountsAndTheFailedReadIsSaid() throws Exception {
    CountingControlPlane control = new CountingControlPlane(null);
    List<MemberInfo> members = List.of(member("s1", UP, LAST_PASS));

    ClusterResponse r = answer(new ClusterStatus(control, () -> ClusterView.of(members), 3));

    assertFalse(r.hasPassCounts());
    assertEquals("", r.getMetaLeader());
    assertEquals(Status.UNAVAILABLE, r.getStatus());
    assertTrue(r.getError().contains("no leader"), r.getError());
    assertEquals(members, r.getMembersList());
  }

  private static ClusterResponse answer(ClusterStatus status) throws Exception {
    return status.answer().get(5, TimeUnit.SECONDS);
  }

  private static MemberInfo member(String id, MemberState state, ChunkCounts counts) {
    MemberInfo.Builder b = MemberInfo.newBuilder().setId(id).setAddress("127.0.0.1:1")
        .setState(state);
    if (counts != null) {
      b.setPassCounts(counts);
    }
    return b.build();
  }

  private static ChunkLocation location(long inode, int index, String... replicas) {
    return ChunkLocation.newBuilder()
        .setChunk(ChunkId.newBuilder().setInode(inode).setIndex(index))
        .setVersion(1).addAllReplicas(List.of(replicas)).build();
  }

  /**
   * A metadata plane that counts every call by kind: namespace_stats answers 42 inodes,
   * list_chunks pages through an in-memory chunk map, and anything else is refused. With no
   * leader every call is answered UNAVAILABLE, as a member without a quorum would.
   */
  private static final class CountingControlPlane implements ControlPlaneOrchestrator {
    private final String leader;
    private final List<ChunkLocation> chunks = new ArrayList<>();
    private final Map<MetaRequest.OpCase, Integer> calls = new EnumMap<>(MetaRequest.OpCase.class);

    CountingControlPlane(String leader) {
      this.leader = leader;
    }

    synchronized void add(ChunkLocation location) {
      chunks.add(location);
      chunks.sort(Comparator.comparingLong((ChunkLocation l) -> l.getChunk().getInode())
          .thenComparingInt(l -> l.getChunk().getIndex()));
    }

    synchronized Map<MetaRequest.OpCase, Integer> calls() {
      return Map.copyOf(calls);
    }

    synchronized void clearCalls() {
      calls.clear();
    }

    @Override
    public void start() {}

    @Override
    public synchronized CompletableFuture<MetaResponse> submit(MetaRequest request) {
      calls.merge(request.getOpCase(), 1, Integer::sum);
      if (leader == null) {
        return done(MetaResponse.newBuilder().setStatus(Status.UNAVAILABLE).setError("no leader"));
      }
      return switch (request.getOpCase()) {
        case NAMESPACE_STATS -> done(MetaResponse.newBuilder().setStatus(Status.OK)
            .setInodeCount(42).setChunkCount(chunks.size())
            .setAppliedIndex(77 * 1024 + 1023)); // read at log index 77
        case LIST_CHUNKS -> done(page(request));
        default -> done(MetaResponse.newBuilder().setStatus(Status.EINVAL)
            .setError("not in this fake: " + request.getOpCase()));
      };
    }

    private MetaResponse.Builder page(MetaRequest request) {
      var op = request.getListChunks();
      MetaResponse.Builder r = MetaResponse.newBuilder().setStatus(Status.OK);
      List<ChunkLocation> from = chunks.stream()
          .filter(l -> l.getChunk().getInode() > op.getStartInode()
              || (l.getChunk().getInode() == op.getStartInode()
                  && l.getChunk().getIndex() >= op.getStartIndex()))
          .toList();
      r.addAllLocations(from.subList(0, Math.min(op.getLimit(), from.size())));
      r.setMoreChunks(from.size() > op.getLimit());
      return r;
    }

    private static CompletableFuture<MetaResponse> done(MetaResponse.Builder r) {
      return CompletableFuture.completedFuture(r.build());
    }

    @Override
    public Optional<String> leaderId() {
      return Optional.ofNullable(leader);
    }

    @Override
    public void close() {}
  }
}
