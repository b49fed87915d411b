package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChainReplicationTest.bytes;
import static io.shoalfs.server.data.ChainReplicationTest.write;
import static io.shoalfs.server.data.ChunkStoreTest.BLOCK;
import static io.shoalfs.server.data.ChunkStoreTest.CHUNK;
import static io.shoalfs.server.data.ChunkStoreTest.random;
import static io.shoalfs.server.data.DataNode.chunk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The healer against an in-memory chunk map (the map's own rules are tested with the
 * metadata code) and three real data nodes, so copies really travel over RPC.
 */
class ReplicationManagerTest {
  @TempDir Path dirA;
  @TempDir Path dirB;
  @TempDir Path dirC;
  DownstreamClients clients;
  DataNode a;
  DataNode b;
  DataNode c;
  ChunkMap map;
  List<MemberInfo> members;
  AtomicBoolean leader;
  /** Whether the membership counts a member it does not list as dead. */
  AtomicBoolean unlistedDead;

  @BeforeEach
  void start() throws Exception {
    clients = new DownstreamClients();
    a = node("a", dirA);
    b = node("b", dirB);
    c = node("c", dirC);
    map = new ChunkMap();
    leader = new AtomicBoolean(true);
    unlistedDead = new AtomicBoolean();
    members = new ArrayList<>(List.of(
        member(a, MemberState.UP, 300), member(b, MemberState.UP, 200),
        member(c, MemberState.UP, 100),
        MemberInfo.newBuilder().setId("d").setAddress("127.0.0.1:1").setState(MemberState.DEAD)
            .setFreeBytes(1000).build(),
        MemberInfo.newBuilder().setId("e").setAddress("127.0.0.1:1").setState(MemberState.DOWN)
            .setFreeBytes(1000).build()));
  }

  @AfterEach
  void stop() throws Exception {
    a.close();
    b.close();
    c.close();
    clients.close();
  }

  DataNode node(String id, Path dir) throws Exception {
    DataPlaneSettings settings = DataPlaneSettings.defaults(dir).withSizes(CHUNK, BLOCK);
    return DataNode.start(id, dir, settings, new ReplicaSettings(id, clients, null,
        Duration.ofHours(1), OrphanCollector.DEFAULT_GRACE));
  }

  static MemberInfo member(DataNode n, MemberState state, long free) {
    return MemberInfo.newBuilder().setId(n.id).setAddress(n.address).setState(state)
        .setFreeBytes(free).build();
  }

  ReplicationManager healer(int replication, int copiesPerPass) {
    return new ReplicationManager(map, this::view, leader::get, replication, clients,
        Duration.ofHours(1), copiesPerPass, 4, Integer.MAX_VALUE);
  }

  ClusterView view() {
    return ClusterView.of(members, unlistedDead.get());
  }

  @Test
  void aPassReadsTheChunkMapNoFasterThanItsPace() throws Exception {
    for (long inode = 1; inode <= 2500; inode++) {
      map.put(location(inode, 0, 1, "a", "b"));
    }
    ReplicationManager paced = new ReplicationManager(map, this::view, leader::get, 2, clients,
        Duration.ofHours(1), 64, 4, 5000);
    long started = System.nanoTime();
    ReplicationManager.PassReport report = paced.runOnce();
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertEquals(2500, report.chunks());
    // The pages before the last are paced (2000 chunks at 5000 a second); the last ends it.
    assertTrue(tookMillis >= 390, "2000 chunks at 5000 a second took only " + tookMillis + " ms");
    paced.close();
  }

  @Test
  void theCountsSayWhenThePassThatMadeThemRan() throws Exception {
    for (long inode = 1; inode <= 1500; inode++) {
      map.put(location(inode, 0, 1, "a", "b"));
    }
    ReplicationManager paced = new ReplicationManager(map, this::view, leader::get, 2, clients,
        Duration.ofHours(1), 64, 4, 5000);
    assertTrue(paced.counts().isEmpty(), "no pass has ended yet");
    long before = System.currentTimeMillis();
    paced.runOnce();
    long after = System.currentTimeMillis();
    ReplicationManager.Counts counts = paced.counts().orElseThrow();
    assertEquals(1500, counts.chunks());
    assertTrue(before <= counts.passStartedMs() && counts.passEndedMs() <= after,
        counts + " outside the pass [" + before + ", " + after + "]");
    // The first page of 1000 is paced (200 ms at 5000 a second) before the second is read.
    assertTrue(counts.passEndedMs() - counts.passStartedMs() >= 150, counts.toString());
    paced.close();
  }

  @Test
  void dropsDeadReplicasAndCopiesTheChunkToLiveNodes() throws Exception {
    byte[] data = random(31, 3 * BLOCK + 17);
    a.store().write(7, 0, 0, ByteBuffer.wrap(data), true, 2);
    map.put(location(7, 0, 2, "a", "d"));

    ReplicationManager.PassReport report = healer(3, 64).runOnce();

    // d dropped (version 3), then b and c pulled the data from a, each inside a fence: fenced
    // at 4, b added at 5, fenced at 6, c added at 7.
    assertEquals(List.of("a", "b", "c"), map.get(7, 0).getReplicasList());
    assertEquals(7, map.get(7, 0).getVersion());
    assertFalse(map.get(7, 0).getCopying());
    for (DataNode n : new DataNode[] {b, c}) {
      assertArrayEquals(data, bytes(n.store().read(7, 0, 0, CHUNK)), n.id);
    }
    assertEquals(4, b.store().version(7, 0), "the copy takes the fenced version");
    assertEquals(6, c.store().version(7, 0));
    assertEquals(6, a.store().version(7, 0), "each copy stamped its source first");
    assertEquals(2, report.copied());
    assertEquals(1, report.dropped());
    assertEquals(1, report.chunks());
    assertEquals(0, report.underReplicated());
  }

  @Test
  void aReplicaOnAMemberNeverSeenIsDroppedOnceTheMembershipCountsItDead() throws Exception {
    // "gone" held copies before the cluster restarted and never came back: the directory does
    // not list it at all.
    byte[] data = random(33, 2 * BLOCK + 5);
    a.store().write(14, 0, 0, ByteBuffer.wrap(data), true, 4);
    b.store().write(14, 0, 0, ByteBuffer.wrap(data), true, 4);
    map.put(location(14, 0, 4, "a", "b", "gone"));
    ReplicationManager healer = healer(3, 64);

    ReplicationManager.PassReport early = healer.runOnce(); // within the grace period
    assertEquals(0, early.dropped());
    assertEquals(1, early.underReplicated());
    assertEquals(List.of("a", "b", "gone"), map.get(14, 0).getReplicasList());

    unlistedDead.set(true); // the grace period since the directory started is over
    ReplicationManager.PassReport late = healer.runOnce();
    assertEquals(1, late.dropped());
    assertEquals(1, late.copied());
    assertEquals(0, late.underReplicated());
    assertEquals(List.of("a", "b", "c"), map.get(14, 0).getReplicasList());
    assertEquals(7, map.get(14, 0).getVersion(), "4, dropped 5, fenced 6, added 7");
    assertArrayEquals(data, bytes(c.store().read(14, 0, 0, CHUNK)));
  }

  @Test
  void targetsTheLiveNodeWithTheMostFreeSpaceAndLeavesHealthyChunksAlone() throws Exception {
    byte[] data = random(32, 1000);
    a.store().write(8, 0, 0, ByteBuffer.wrap(data), false, 1);
    map.put(location(8, 0, 1, "a"));
    map.put(location(9, 0, 1, "a", "b"));
    members.set(1, member(b, MemberState.UP, 50)); // now c (100) has more room than b

    ReplicationManager healer = healer(2, 64);
    healer.runOnce();

    assertEquals(List.of("a", "c"), map.get(8, 0).getReplicasList());
    assertArrayEquals(data, bytes(c.store().read(8, 0, 0, 1000)));
    assertNull(b.store().info(8, 0));
    assertEquals(List.of("a", "b"), map.get(9, 0).getReplicasList());
    assertCounts(2, 0, healer);
    assertEquals(2, map.mutations, "one fence and one add_replica, nothing else changed");
  }

  @Test
  void aMemberThatServesMetadataOnlyIsNeverATargetOrASource() throws Exception {
    // a has the most free space and comes first in the chains below, but serves metadata only.
    members.set(0, member(a, MemberState.UP, 300).toBuilder().addRoles(MemberRole.METADATA)
        .build());
    byte[] onA = random(41, 2 * BLOCK + 3);
    byte[] onB = random(42, 2 * BLOCK + 3);
    b.store().write(30, 0, 0, ByteBuffer.wrap(onB), true, 1);
    map.put(location(30, 0, 1, "b"));          // short of two: only c may take a copy
    a.store().write(31, 0, 0, ByteBuffer.wrap(onA), true, 1);
    b.store().write(31, 0, 0, ByteBuffer.wrap(onB), true, 1);
    map.put(location(31, 0, 1, "a", "b"));     // a listed first: b must be the source
    a.store().write(32, 0, 0, ByteBuffer.wrap(onA), true, 1);
    map.put(location(32, 0, 1, "a"));          // no data node holds it: nothing to copy from

    ReplicationManager healer = healer(3, 64);
    ReplicationManager.PassReport report = healer.runOnce();

    assertEquals(List.of("b", "c"), map.get(30, 0).getReplicasList());
    assertNull(a.store().info(30, 0), "no copy was made on the metadata server");
    assertEquals(List.of("a", "b", "c"), map.get(31, 0).getReplicasList());
    assertArrayEquals(onB, bytes(c.store().read(31, 0, 0, CHUNK)), "copied from b, not from a");
    assertEquals(List.of("a"), map.get(32, 0).getReplicasList());
    assertNull(b.store().info(32, 0));
    assertNull(c.store().info(32, 0));
    assertEquals(2, report.copied());
    assertEquals(3, report.underReplicated(), "30 is short; 31 and 32 have a replica on a"
        + " member that is no data node");
  }

  @Test
  void countsChunksWithDownReplicasOrNoLiveSourceAsUnderReplicated() throws Exception {
    map.put(location(10, 0, 1, "a", "e")); // e is down: wait for it, but count it
    map.put(location(11, 0, 1, "e"));      // no live source: nothing to copy from
    map.put(location(12, 0, 1, "a", "b"));
    ReplicationManager healer = healer(2, 64);
    ReplicationManager.PassReport report = healer.runOnce();
    assertEquals(3, healer.chunkCount());
    assertEquals(2, healer.underReplicated());
    assertEquals(0, report.copied());
    assertEquals(List.of("a", "e"), map.get(10, 0).getReplicasList());
    assertEquals(List.of("e"), map.get(11, 0).getReplicasList());
  }

  @Test
  void doesNothingWhenNotTheLeader() throws Exception {
    a.store().write(13, 0, 0, ByteBuffer.wrap(new byte[10]), false, 1);
    map.put(location(13, 0, 1, "a", "d"));
    leader.set(false);
    ReplicationManager healer = healer(3, 64);
    assertFalse(healer.runOnce().ran());
    assertEquals(0, map.requests);
    assertTrue(healer.counts().isEmpty());
    assertNull(b.store().info(13, 0));
    assertEquals(List.of("a", "d"), map.get(13, 0).getReplicasList());
  }

  @Test
  void copiesAtMostTheBudgetPerPassAndPagesThroughTheMap() throws Exception {
    for (long inode = 20; inode < 20 + ReplicationManager.PAGE_SIZE + 5; inode++) {
      map.put(location(inode, 0, 1, "a", "b"));
    }
    a.store().write(20, 0, 0, ByteBuffer.wrap(new byte[10]), false, 1);
    a.store().write(21, 0, 0, ByteBuffer.wrap(new byte[10]), false, 1);
    ReplicationManager healer = healer(3, 2);
    ReplicationManager.PassReport report = healer.runOnce();
    assertEquals(2, report.copied());
    assertEquals(ReplicationManager.PAGE_SIZE + 5, report.chunks());
    assertEquals(ReplicationManager.PAGE_SIZE + 3, report.underReplicated());
    assertEquals(List.of("a", "b", "c"), map.get(20, 0).getReplicasList());
    assertEquals(List.of("a", "b", "c"), map.get(21, 0).getReplicasList());
    assertEquals(List.of("a", "b"), map.get(22, 0).getReplicasList());
  }

  @Test
  void healsManyChunksInOnePassWithCopiesInParallel() throws Exception {
    int n = 40;
    for (long inode = 100; inode < 100 + n; inode++) {
      byte[] data = random((int) inode, 5000 + (int) inode);
      a.store().write(inode, 0, 0, ByteBuffer.wrap(data), false, 1);
      map.put(location(inode, 0, 1, "a"));
    }
    ReplicationManager healer = healer(3, 1000);
    ReplicationManager.PassReport report = healer.runOnce();
    assertEquals(2 * n, report.copied());
    assertEquals(0, report.underReplicated());
    for (long inode = 100; inode < 100 + n; inode++) {
      assertEquals(List.of("a", "b", "c"), map.get(inode, 0).getReplicasList(), "inode " + inode);
      byte[] data = random((int) inode, 5000 + (int) inode);
      assertArrayEquals(data, bytes(b.store().read(inode, 0, 0, CHUNK)), "b, inode " + inode);
      assertArrayEquals(data, bytes(c.store().read(inode, 0, 0, CHUNK)), "c, inode " + inode);
    }
    assertCounts(n, 0, healer);
  }

  @Test
  void aCopyThatFailsIsNotAdded() throws Exception {
    // a's copy is newer than the map says (even fenced, one version on): the map is out of
    // date, the copy is refused, and its fence lifted (b tried, then c).
    a.store().write(30, 0, 0, ByteBuffer.wrap(new byte[10]), false, 9);
    map.put(location(30, 0, 4, "a"));
    ReplicationManager.PassReport report = healer(2, 64).runOnce();
    assertEquals(0, report.copied());
    assertEquals(List.of("a"), map.get(30, 0).getReplicasList());
    assertFalse(map.get(30, 0).getCopying(), "writers do not wait for a copy given up");
    assertEquals(8, map.get(30, 0).getVersion(), "fenced and lifted twice");
    assertNull(b.store().info(30, 0));
    assertNull(c.store().info(30, 0));
  }

  /**
   * The race the fence closes: a writer that learned the chunk's location before the heal
   * writes after the copy read the chunk and before add_replica commits it. Before the fence
   * that write was acknowledged by the old chain and missing from the new copy, which the map
   * then recorded as current.
   */
  @Test
  void aWriteBetweenTheCopyAndItsCommitIsOnEveryReplicaTheMapRecords() throws Exception {
    byte[] expected = random(41, 3 * BLOCK + 17);
    for (DataNode n : new DataNode[] {a, b}) {
      n.store().write(40, 0, 0, ByteBuffer.wrap(expected), true, 1);
    }
    ChunkLocation before = location(40, 0, 1, "a", "b");
    map.put(before);
    byte[] patch = random(42, 1000);
    int offset = BLOCK + 5;
    List<DataResponse> racing = new ArrayList<>();
    List<ChunkLocation> seenDuringTheCopy = new ArrayList<>();
    map.beforeApply = request -> {
      if (request.getOpCase() == MetaRequest.OpCase.ADD_REPLICA && racing.isEmpty()) {
        seenDuringTheCopy.add(map.get(40, 0));
        racing.add(call(a, write(40, 0, offset, patch, before.getVersion(), b)));
      }
    };

    ReplicationManager.PassReport report = healer(3, 64).runOnce();
    assertEquals(1, report.copied());
    assertTrue(seenDuringTheCopy.get(0).getCopying(), "a writer asking the map would wait");
    if (racing.get(0).getStatus() == Status.OK) {
      System.arraycopy(patch, 0, expected, offset, patch.length);
    } else {
      // Refused (the stamped source is newer): the writer asks the map again and writes there.
      assertEquals(Status.STALE_VERSION, racing.get(0).getStatus(), racing.get(0).getError());
      ChunkLocation now = map.get(40, 0);
      assertFalse(now.getCopying());
      DataNode head = byId(now.getReplicas(0));
      DataNode[] chain = now.getReplicasList().subList(1, now.getReplicasCount()).stream()
          .map(this::byId).toArray(DataNode[]::new);
      DataResponse again = call(head, write(40, 0, offset, patch, now.getVersion(), chain));
      assertEquals(Status.OK, again.getStatus(), again.getError());
      System.arraycopy(patch, 0, expected, offset, patch.length);
    }

    ChunkLocation healed = map.get(40, 0);
    assertEquals(List.of("a", "b", "c"), healed.getReplicasList());
    for (String replica : healed.getReplicasList()) {
      assertArrayEquals(expected, bytes(byId(replica).store().read(40, 0, 0, CHUNK)),
          "replica " + replica + " misses an acknowledged write");
    }
  }

  @Test
  void aFenceNoCopyWillEndIsLiftedAndTheChunkHealed() throws Exception {
    byte[] data = random(43, 2000);
    a.store().write(44, 0, 0, ByteBuffer.wrap(data), false, 3);
    // Fenced by a leader that died while copying.
    map.put(location(44, 0, 3, "a").toBuilder().setCopying(true).build());
    ReplicationManager.PassReport report = healer(2, 64).runOnce();
    assertEquals(1, report.copied());
    ChunkLocation healed = map.get(44, 0);
    assertEquals(List.of("a", "b"), healed.getReplicasList());
    assertArrayEquals(data, bytes(b.store().read(44, 0, 0, CHUNK)));
    assertFalse(healed.getCopying());
    assertEquals(6, healed.getVersion(), "lifted at 4, fenced at 5, added at 6");
  }

  static void assertCounts(long chunks, long underReplicated, ReplicationManager healer) {
    ReplicationManager.Counts counts = healer.counts().orElseThrow();
    assertEquals(chunks, counts.chunks());
    assertEquals(underReplicated, counts.underReplicated());
  }

  DataNode byId(String id) {
    return switch (id) {
      case "a" -> a;
      case "b" -> b;
      case "c" -> c;
      default -> throw new IllegalArgumentException(id);
    };
  }

  static DataResponse call(DataNode head, io.shoalfs.proto.DataRequest request) {
    try {
      return head.call(request);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static ChunkLocation location(long inode, int index, long version, String... replicas) {
    return ChunkLocation.newBuilder().setChunk(chunk(inode, index)).setVersion(version)
        .addAllReplicas(List.of(replicas)).build();
  }

  /**
   * The chunk map's healer-facing rules, in memory: list_chunks pages in (inode, index)
   * order; report_replica_failure drops a replica (never the last) and bumps the version;
   * fence_chunk bumps it and marks or unmarks copying; add_replica adds one copy made inside
   * the fence at the current version, and bumps it.
   */
  static final class ChunkMap implements ControlPlaneOrchestrator {
    private final TreeMap<ChunkKey, ChunkLocation> chunks = new TreeMap<>(
        java.util.Comparator.comparingLong(ChunkKey::inode).thenComparingInt(ChunkKey::index));
    int requests;
    int mutations;
    /** Runs before each request is applied (a test injects what races it here). */
    volatile java.util.function.Consumer<MetaRequest> beforeApply = request -> {};

    synchronized void put(ChunkLocation location) {
      chunks.put(key(location), location);
    }

    synchronized ChunkLocation get(long inode, int index) {
      return chunks.get(new ChunkKey(inode, index));
    }

    @Override
    public synchronized CompletableFuture<MetaResponse> submit(MetaRequest request) {
      beforeApply.accept(request);
      requests++;
      MetaResponse.Builder r = MetaResponse.newBuilder().setStatus(Status.OK);
      switch (request.getOpCase()) {
        case LIST_CHUNKS -> {
          var op = request.getListChunks();
          var tail = chunks.tailMap(new ChunkKey(op.getStartInode(), op.getStartIndex()), true)
              .values().iterator();
          for (int i = 0; i < op.getLimit() && tail.hasNext(); i++) {
            r.addLocations(tail.next());
          }
          r.setMoreChunks(tail.hasNext());
        }
        case REPORT_REPLICA_FAILURE -> {
          mutations++;
          var op = request.getReportReplicaFailure();
          ChunkLocation l = chunks.get(new ChunkKey(op.getChunk().getInode(),
              op.getChunk().getIndex()));
          if (l.getVersion() == op.getVersion() && l.getReplicasCount() > 1
              && l.getReplicasList().contains(op.getMember())) {
            List<String> kept = new ArrayList<>(l.getReplicasList());
            kept.remove(op.getMember());
            l = l.toBuilder().clearReplicas().addAllReplicas(kept)
                .setVersion(l.getVersion() + 1).setCopying(false).build();
            put(l);
          }
          r.addLocations(l);
        }
        case ADD_REPLICA -> {
          mutations++;
          var op = request.getAddReplica();
          ChunkLocation l = chunks.get(new ChunkKey(op.getChunk().getInode(),
              op.getChunk().getIndex()));
          if (!l.getReplicasList().contains(op.getMember())) {
            if (l.getVersion() != op.getVersion() || !l.getCopying()) {
              return CompletableFuture.completedFuture(MetaResponse.newBuilder()
                  .setStatus(Status.STALE_VERSION).addLocations(l).build());
            }
            l = l.toBuilder().addReplicas(op.getMember()).setVersion(l.getVersion() + 1)
                .setCopying(false).build();
            put(l);
          }
          r.addLocations(l);
        }
        case FENCE_CHUNK -> {
          mutations++;
          var op = request.getFenceChunk();
          ChunkLocation l = chunks.get(new ChunkKey(op.getChunk().getInode(),
              op.getChunk().getIndex()));
          if (l.getVersion() != op.getVersion() || l.getCopying() == op.getFence()) {
            return CompletableFuture.completedFuture(MetaResponse.newBuilder()
                .setStatus(Status.STALE_VERSION).addLocations(l).build());
          }
          l = l.toBuilder().setVersion(l.getVersion() + 1).setCopying(op.getFence()).build();
          put(l);
          r.addLocations(l);
        }
        default -> r.setStatus(Status.ENOTSUP);
      }
      return CompletableFuture.completedFuture(r.build());
    }

    @Override
    public void start() {}

    @Override
    public Optional<String> leaderId() {
      return Optional.of("a");
    }

    @Override
    public void close() {}

    private static ChunkKey key(ChunkLocation l) {
      return new ChunkKey(l.getChunk().getInode(), l.getChunk().getIndex());
    }
  }
}
