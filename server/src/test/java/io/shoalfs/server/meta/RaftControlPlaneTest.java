package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.RaftGroupSupport.freePort;
import static io.shoalfs.server.meta.RaftGroupSupport.ok;
import static io.shoalfs.server.meta.RaftGroupSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.BatchOp;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.CloseSessionOp;
import io.shoalfs.proto.ExpireSessionsOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.JournalOp;
import io.shoalfs.proto.KeepAliveOp;
import io.shoalfs.proto.LinkOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.OpenSessionOp;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Raft group (Ratis over Netty on loopback) around the namespace state machine. */
class RaftControlPlaneTest {

  static final long ROOT = KeySchema.ROOT_INODE;
  // Root: the servers enforce mode bits, and these tests write into the root directory.
  static final Caller USER = Caller.newBuilder().setUid(0).setGid(0).build();

  @TempDir Path tmp;
  private final List<RaftControlPlane> open = new ArrayList<>();
  private long clock = 1_000_000_000L;

  @AfterEach
  void closeAll() throws IOException {
    for (RaftControlPlane plane : open) {
      plane.close();
    }
  }

  @Test
  void restartKeepsStateAndAppliesNothingTwice() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    // No snapshot on stop: the restart must replay the log over a store that holds it all.
    RaftControlPlane.Config config = RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1"))
        .withSnapshotOnStop(false);
    RaftControlPlane plane = start(config);
    long dir = ok(plane, mknod(ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    long first = ok(plane, mknod(dir, "x", FileType.REGULAR)).getAttr().getInode();
    ok(plane, link(first, ROOT, "hard"));
    ok(plane, unlink(dir, "x"));
    // Replaying these three on top of the store would unlink the second x and make a third.
    long second = ok(plane, mknod(dir, "x", FileType.REGULAR)).getAttr().getInode();
    assertEquals(first + 1, second);
    stop(plane);

    try (Stream<Path> snapshots = Files.list(findDir(tmp.resolve("m1"), "snapshots"))) {
      assertEquals(0, snapshots.count(), "no snapshot: the log is the only record");
    }
    RaftControlPlane again = start(config);
    assertEquals(second, ok(again, lookup(dir, "x")).getAttr().getInode());
    assertEquals(1, ok(again, getAttr(first)).getAttr().getNlink());
    assertEquals(3, ok(again, getAttr(ROOT)).getAttr().getNlink());
    assertEquals(4, inodeCount(again)); // root, d, first (via "hard"), second
    long third = ok(again, mknod(ROOT, "new", FileType.REGULAR)).getAttr().getInode();
    assertEquals(second + 1, third, "the inode counter was not advanced by a replay");
  }

  @Test
  void sameClientAndSequenceIsAppliedOnce() throws Exception {
    RaftControlPlane plane = startAlone();
    ok(plane, openSession(77, 1));
    ok(plane, openSession(78, 1));
    MetaRequest create = mknod(ROOT, "once", FileType.REGULAR).toBuilder()
        .setClientId(77).setRequestSeq(5).build();
    MetaResponse firstReply = ok(plane, create);
    MetaResponse retried = plane.submit(create).get(30, TimeUnit.SECONDS);
    assertEquals(firstReply, retried, "a retry gets the stored answer, not EEXIST");
    assertTrue(firstReply.getAppliedIndex() > 0, "a mutation's answer names its log index");
    assertTrue(ok(plane, lookup(ROOT, "once")).getAppliedIndex() >= firstReply.getAppliedIndex(),
        "a read after it reflects at least that index");
    assertEquals(2, inodeCount(plane));
    // A client has many calls in flight: one numbered lower may be ordered later by Raft.
    MetaRequest older = mknod(ROOT, "older", FileType.REGULAR).toBuilder()
        .setClientId(77).setRequestSeq(4).build();
    MetaResponse olderReply = ok(plane, older);
    assertEquals(olderReply, plane.submit(older).get(30, TimeUnit.SECONDS), "its retry is answered too");
    assertEquals(3, inodeCount(plane));
    MetaRequest next = mknod(ROOT, "once", FileType.REGULAR).toBuilder()
        .setClientId(77).setRequestSeq(6).build();
    MetaResponse exists = plane.submit(next).get(30, TimeUnit.SECONDS);
    assertEquals(Status.EEXIST, exists.getStatus(), "a new sequence number is a new request");
    assertTrue(exists.getAppliedIndex() > olderReply.getAppliedIndex(), "its own, later index");
    // Another client with the same sequence number is not confused with client 77.
    MetaRequest otherClient = mknod(ROOT, "theirs", FileType.REGULAR).toBuilder()
        .setClientId(78).setRequestSeq(5).build();
    ok(plane, otherClient);
    assertEquals(4, inodeCount(plane));
  }

  @Test
  void aClientWithoutAnOpenSessionIsRefusedAndNothingIsApplied() throws Exception {
    RaftControlPlane plane = startAlone();
    MetaRequest create = mknod(ROOT, "nosession", FileType.REGULAR).toBuilder()
        .setClientId(90).setRequestSeq(2).build();
    assertEquals(Status.SESSION_EXPIRED, plane.submit(create).get(30, TimeUnit.SECONDS).getStatus());
    assertEquals(Status.ENOENT, plane.submit(lookup(ROOT, "nosession")).get(30, TimeUnit.SECONDS)
        .getStatus());
    ok(plane, openSession(90, 1));
    ok(plane, create);
  }

  @Test
  void aClosedSessionTakesItsRepliesAndOrphansWithIt() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    RaftControlPlane.Config config = RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1"))
        .withSnapshotOnStop(false);
    RaftControlPlane plane = start(config);
    ok(plane, openSession(77, 1));
    MetaRequest create = mknod(ROOT, "kept", FileType.REGULAR).toBuilder()
        .setClientId(77).setRequestSeq(2).build();
    long kept = ok(plane, create).getAttr().getInode();
    // Unlinked while the mount keeps it open: an orphan of the session.
    ok(plane, unlink(ROOT, "kept").toBuilder().setClientId(77).setRequestSeq(3)
        .setUnlink(unlink(ROOT, "kept").getUnlink().toBuilder().setKeepOpen(true)).build());
    assertEquals(0, ok(plane, getAttr(kept)).getAttr().getNlink(), "nlink 0, still there");
    ok(plane, closeSession(77, 4));

    assertEquals(Status.ENOENT, plane.submit(getAttr(kept)).get(30, TimeUnit.SECONDS).getStatus(),
        "the orphan was freed with its session");
    MetaResponse retried = plane.submit(create).get(30, TimeUnit.SECONDS);
    assertEquals(Status.SESSION_EXPIRED, retried.getStatus(),
        "a retry after the session ended is refused, not re-applied: " + retried);
    stop(plane);
    assertEquals(0, keysWithPrefix(KeySchema.replyPrefix(77)), "no reply left behind");
    assertEquals(0, keysWithPrefix(KeySchema.orphanPrefix(77)), "no orphan record left behind");
    assertEquals(0, keysWithPrefix(KeySchema.session(77)), "no session record left behind");
  }

  @Test
  void aRetryOlderThanTheReplyWindowIsRefusedNotAppliedTwice() throws Exception {
    RaftControlPlane plane = startAlone();
    ok(plane, openSession(77, 1));
    MetaRequest create = mknod(ROOT, "old", FileType.REGULAR).toBuilder()
        .setClientId(77).setRequestSeq(2).build();
    ok(plane, create);
    ok(plane, unlink(ROOT, "old").toBuilder().setClientId(77).setRequestSeq(3).build());
    // The window moves on: a mutation numbered a whole window later.
    ok(plane, mknod(ROOT, "later", FileType.REGULAR).toBuilder()
        .setClientId(77).setRequestSeq(2 + KeySchema.REPLY_WINDOW).build());
    MetaResponse late = plane.submit(create).get(30, TimeUnit.SECONDS);
    assertEquals(Status.RETRY_TOO_OLD, late.getStatus(), late.toString());
    assertEquals(Status.ENOENT, plane.submit(lookup(ROOT, "old")).get(30, TimeUnit.SECONDS)
        .getStatus(), "the old create was not applied a second time");
  }

  @Test
  void expirySparesSessionsSeenSinceTheMarkAndEndsTheOthers() throws Exception {
    RaftControlPlane plane = startAlone();
    ok(plane, openSession(1, 1));
    ok(plane, openSession(2, 1));
    long mark = ok(plane, expire(0)).getAppliedIndex(); // expires nothing: no mark yet
    ok(plane, keepAlive(2, 2));
    ok(plane, expire(mark));
    assertEquals(Status.SESSION_EXPIRED, plane.submit(keepAlive(1, 2)).get(30, TimeUnit.SECONDS)
        .getStatus(), "silent since before the mark: ended");
    ok(plane, keepAlive(2, 3));
    MetaRequest fromAClient = expire(Long.MAX_VALUE).toBuilder().setClientId(2).setRequestSeq(4)
        .build();
    assertEquals(Status.EPERM, plane.submit(fromAClient).get(30, TimeUnit.SECONDS).getStatus(),
        "only the leader expires sessions");
    ok(plane, keepAlive(2, 5));
  }

  @Test
  void aJournalIsAppliedInOrderOnceEachOpAsIfAlone() throws Exception {
    RaftControlPlane plane = startAlone();
    ok(plane, openSession(77, 1));
    // Create, unlink, create of one name; a refused op in the middle stops nothing after it.
    MetaRequest journal = MetaRequest.newBuilder().setClientId(77).setRequestSeq(2)
        .setJournal(JournalOp.newBuilder()
            .addOps(mknod(ROOT, "n", FileType.REGULAR))
            .addOps(unlink(ROOT, "n"))
            .addOps(mknod(ROOT, "n", FileType.REGULAR))
            .addOps(mknod(ROOT, "n", FileType.REGULAR))
            .addOps(mknod(ROOT, "m", FileType.DIRECTORY)))
        .build();
    MetaResponse answer = ok(plane, journal);
    assertEquals(List.of(Status.OK, Status.OK, Status.OK, Status.EEXIST, Status.OK),
        answer.getBatchedList().stream().map(MetaResponse::getStatus).toList());
    long second = answer.getBatched(2).getAttr().getInode();
    assertEquals(second, ok(plane, lookup(ROOT, "n")).getAttr().getInode(), "the later create");
    long count = inodeCount(plane);
    assertEquals(answer, plane.submit(journal).get(30, TimeUnit.SECONDS),
        "a resent journal is answered from the reply table");
    assertEquals(count, inodeCount(plane), "and applied once");

    MetaRequest mixed = MetaRequest.newBuilder().setClientId(77).setRequestSeq(3)
        .setJournal(JournalOp.newBuilder()
            .addOps(mknod(ROOT, "x", FileType.REGULAR))
            .addOps(closeSession(77, 0)))
        .build();
    assertEquals(Status.BAD_REQUEST, plane.submit(mixed).get(30, TimeUnit.SECONDS).getStatus());
    assertEquals(Status.ENOENT, plane.submit(lookup(ROOT, "x")).get(30, TimeUnit.SECONDS)
        .getStatus(), "a journal refused whole applies nothing");
  }

  /** A one-member group, m1, under the test's directory. */
  private RaftControlPlane startAlone() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    return start(RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1")));
  }

  private long keysWithPrefix(byte[] prefix) throws IOException {
    try (RocksKv kv = RocksKv.open(findDir(tmp.resolve("m1"), "db"))) {
      long[] count = {0};
      kv.read(r -> {
        r.scan(prefix, prefix, (k, v) -> ++count[0] > 0);
        return null;
      });
      return count[0];
    }
  }

  private static MetaRequest openSession(long client, long seq) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(seq)
        .setOpenSession(OpenSessionOp.newBuilder().setNowNs(1)).build();
  }

  private static MetaRequest closeSession(long client, long seq) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(seq)
        .setCloseSession(CloseSessionOp.getDefaultInstance()).build();
  }

  private static MetaRequest keepAlive(long client, long seq) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(seq)
        .setKeepAlive(KeepAliveOp.newBuilder().setNowNs(seq)).build();
  }

  private static MetaRequest expire(long seenBefore) {
    return MetaRequest.newBuilder().setExpireSessions(
        ExpireSessionsOp.newBuilder().setSeenBefore(seenBefore).setLimit(16)).build();
  }

  @Test
  void chunkMapThroughTheLogAndTheReadPath() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    RaftControlPlane.Config config = RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1"))
        .withSnapshotOnStop(false);
    RaftControlPlane plane = start(config);
    ChunkId chunk = ChunkId.newBuilder().setInode(42).setIndex(3).build();
    MetaRequest allocate = MetaRequest.newBuilder().setAllocateChunk(AllocateChunkOp.newBuilder()
        .setChunk(chunk).addCandidates("m1").addLive("m1").setReplication(1).setMinReplicas(1))
        .build();
    ChunkLocation created = ok(plane, allocate).getLocations(0);
    MetaRequest get = MetaRequest.newBuilder().setGetChunkLocations(GetChunkLocationsOp.newBuilder()
        .setInode(42).setFirstIndex(0).setCount(10)).build();
    assertEquals(List.of(created), ok(plane, get).getLocationsList());
    stop(plane);

    RaftControlPlane again = start(config); // the log replays onto the store without doubling
    assertEquals(List.of(created), ok(again, get).getLocationsList());
    assertEquals(1, ok(again, MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()).build()).getChunkCount());
  }

  @Test
  void snapshotThenRestartFromSnapshotAlone() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    RaftControlPlane.Config config = RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1"));
    RaftControlPlane plane = start(config);
    for (int i = 0; i < 20; i++) {
      ok(plane, mknod(ROOT, "f" + i, FileType.REGULAR));
    }
    assertTrue(plane.takeSnapshot(Duration.ofSeconds(30)) > 0);
    Path snapshots = findDir(tmp.resolve("m1"), "snapshots");
    try (Stream<Path> list = Files.list(snapshots)) {
      assertTrue(list.anyMatch(p -> p.getFileName().toString().matches("\\d+_\\d+")),
          "checkpoint directory named term_index");
    }
    ok(plane, mknod(ROOT, "after-snapshot", FileType.REGULAR));
    stop(plane);

    // Lose the live store: the snapshot plus the log after it must rebuild everything.
    CheckpointSnapshotStorage.deleteRecursively(findDir(tmp.resolve("m1"), "db"));
    RaftControlPlane again = start(config);
    assertEquals(22, inodeCount(again));
    MetaResponse listing = ok(again, MetaRequest.newBuilder().setCaller(USER)
        .setReadDir(ReadDirOp.newBuilder().setInode(ROOT)).build());
    assertEquals(21, listing.getEntriesCount());
    ok(again, lookup(ROOT, "after-snapshot"));
    assertEquals(Status.EEXIST, again.submit(mknod(ROOT, "f3", FileType.REGULAR))
        .get(30, TimeUnit.SECONDS).getStatus());
  }

  @Test
  void autoSnapshotTriggersAtThreshold() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    RaftControlPlane plane = start(RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1"))
        .withSnapshotEvery(10));
    for (int i = 0; i < 25; i++) {
      ok(plane, mknod(ROOT, "f" + i, FileType.REGULAR));
    }
    Path snapshots = findDir(tmp.resolve("m1"), "snapshots");
    waitFor(Duration.ofSeconds(30), () -> {
      try (Stream<Path> list = Files.list(snapshots)) {
        return list.findAny().isPresent();
      } catch (IOException e) {
        return false;
      }
    });
  }

  @Test
  void threeMembersSurviveLosingTheLeader() throws Exception {
    List<RaftControlPlane> members = startGroup(threeMemberConfigs());
    long dir = ok(members.get(0), mknod(ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    ok(members.get(1), mknod(dir, "a", FileType.REGULAR));

    String leader = members.get(0).leaderId().orElseThrow();
    RaftControlPlane leaderPlane = members.stream()
        .filter(m -> m.selfId().equals(leader))
        .findFirst().orElseThrow();
    stop(leaderPlane);
    members.remove(leaderPlane);

    RaftControlPlane survivor = members.get(0);
    waitFor(Duration.ofSeconds(30),
        () -> survivor.leaderId().isPresent() && !survivor.leaderId().get().equals(leader));
    ok(survivor, lookup(dir, "a"));
    ok(survivor, mknod(dir, "b", FileType.REGULAR));
    assertEquals(4, inodeCount(members.get(1)));
    assertFalse(survivor.leaderId().orElseThrow().equals(leader));
  }

  @Test
  void theLeaderTakesItsOwnRequestsWithoutARaftClientAndFollowersStillForward() throws Exception {
    List<RaftControlPlane> members = startGroup(threeMemberConfigs());
    for (RaftControlPlane m : members) {
      waitFor(Duration.ofSeconds(30), () -> m.leaderId().isPresent());
    }
    String leader = members.get(0).leaderId().orElseThrow();
    RaftControlPlane leaderPlane = members.stream().filter(m -> m.selfId().equals(leader))
        .findFirst().orElseThrow();
    RaftControlPlane follower = members.stream().filter(m -> !m.selfId().equals(leader))
        .findFirst().orElseThrow();
    // The first write of a term makes the leader ready; after it, the local path is open.
    ok(follower, mknod(ROOT, "warm", FileType.REGULAR));
    waitFor(Duration.ofSeconds(10), () -> {
      try {
        ok(leaderPlane, lookup(ROOT, "warm"));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
      return leaderPlane.localSubmits() > 0;
    });

    long localBefore = leaderPlane.localSubmits();
    long dir = ok(leaderPlane, mknod(ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    ok(leaderPlane, mknod(dir, "a", FileType.REGULAR));
    assertEquals(dir, ok(leaderPlane, lookup(ROOT, "d")).getAttr().getInode());
    // A second create of the same name is the state machine's answer, not a retry elsewhere.
    MetaResponse again = leaderPlane.submit(mknod(dir, "a", FileType.REGULAR)).get(30, TimeUnit.SECONDS);
    assertEquals(Status.EEXIST, again.getStatus());
    assertEquals(localBefore + 4, leaderPlane.localSubmits());

    // A follower's requests take the RaftClient to the leader and see the same namespace.
    assertEquals(0, follower.localSubmits());
    ok(follower, lookup(dir, "a"));
    ok(follower, mknod(dir, "b", FileType.REGULAR));
    assertEquals(0, follower.localSubmits());
    assertEquals(5, inodeCount(leaderPlane)); // root, warm, d, a, b
  }

  @Test
  void theLeaderAnswersAReadOnTheCallersThread() throws Exception {
    RaftControlPlane plane = startAlone();
    long dir = ok(plane, mknod(ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    long localBefore = plane.localSubmits();

    // Under the leader lease a read needs no round trip: the answer is there when submit
    // returns, with no thread of the server's in between.
    CompletableFuture<MetaResponse> read = plane.submit(lookup(ROOT, "d"));
    assertTrue(read.isDone(), "a leader read went through another thread");
    assertEquals(dir, read.get().getAttr().getInode());
    assertEquals(localBefore + 1, plane.localSubmits());
  }

  @Test
  void concurrentMutationsShareEntriesEachAnsweredInItsOwnPlace() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    RaftControlPlane plane = start(RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1")));
    long dir = ok(plane, mknod(ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    long entriesBefore = plane.localSubmits();

    // Submitted without waiting, as a busy leader receives them; every tenth name twice.
    List<String> names = new ArrayList<>();
    List<CompletableFuture<MetaResponse>> answers = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String name = "f" + (i % 10 == 9 ? i - 1 : i);
      names.add(name);
      answers.add(plane.submit(mknod(dir, name, FileType.REGULAR)));
    }
    long previousPlace = 0;
    for (int i = 0; i < answers.size(); i++) {
      MetaResponse r = answers.get(i).get(30, TimeUnit.SECONDS);
      boolean duplicate = i % 10 == 9;
      assertEquals(duplicate ? Status.EEXIST : Status.OK, r.getStatus(), names.get(i));
      assertTrue(r.getAppliedIndex() > previousPlace, "answers stand in submission order");
      previousPlace = r.getAppliedIndex();
    }
    long entries = plane.localSubmits() - entriesBefore;
    assertTrue(entries < answers.size(), "200 creates shared log entries: " + entries);
    // The refused duplicates left nothing behind: root, d and the 180 distinct names.
    assertEquals(182, inodeCount(plane));
    assertEquals(180, ok(plane, MetaRequest.newBuilder().setCaller(USER)
        .setReadDir(ReadDirOp.newBuilder().setInode(dir).setLimit(1000)).build())
        .getEntriesCount());
    // A lookup after them all stands after every one of their places.
    assertTrue(ok(plane, lookup(dir, "f0")).getAppliedIndex() > previousPlace);
  }

  @Test
  void aBatchFromACallerIsRefused() throws Exception {
    RaftPeer peer = RaftControlPlane.peer("m1", "127.0.0.1:" + freePort());
    RaftControlPlane plane = start(RaftControlPlane.Config.of("m1", List.of(peer), tmp.resolve("m1")));
    MetaRequest batch = MetaRequest.newBuilder().setBatch(BatchOp.newBuilder()
        .addRequests(mknod(ROOT, "sneaked", FileType.REGULAR))).build();
    MetaResponse r = plane.submit(batch).get(30, TimeUnit.SECONDS);
    assertEquals(Status.BAD_REQUEST, r.getStatus());
    assertEquals(Status.ENOENT, plane.submit(lookup(ROOT, "sneaked")).get(30, TimeUnit.SECONDS)
        .getStatus());
  }

  @Test
  void aMemberBehindThePurgedLogCatchesUpBySnapshotInstall() throws Exception {
    // Small segments and frequent snapshots, so that the log the lagging member needs is gone.
    List<RaftControlPlane.Config> configs = threeMemberConfigs().stream()
        .map(c -> c.withSnapshotEvery(40).withLogSegmentBytes(4096))
        .toList();
    List<RaftControlPlane> members = startGroup(configs);
    ok(members.get(0), mknod(ROOT, "before", FileType.REGULAR));
    // Stop a follower; the other two go on without it.
    String leader = members.get(0).leaderId().orElseThrow();
    RaftControlPlane lagging = members.stream().filter(m -> !m.selfId().equals(leader))
        .findFirst().orElseThrow();
    RaftControlPlane.Config laggingConfig = configs.get(members.indexOf(lagging));
    stop(lagging);
    members.remove(lagging);
    RaftControlPlane live = members.get(0);
    for (int i = 0; i < 300; i++) {
      ok(live, mknod(ROOT, "while-away-" + i, FileType.REGULAR));
    }
    // The log's first entries are purged on both live members: only a snapshot can help.
    for (RaftControlPlane m : members) {
      waitFor(Duration.ofSeconds(30), () -> firstLogIndex(m) > 100);
    }
    long target = live.appliedIndex();

    RaftControlPlane back = new RaftControlPlane(laggingConfig);
    open.add(back);
    back.start();
    waitFor(Duration.ofSeconds(60), () -> {
      try {
        return back.appliedIndex() >= target;
      } catch (IOException e) {
        return false;
      }
    });
    // What it holds now, read from its own store: everything, nothing twice.
    MetaResponse stats = back.readLocally(MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()).build());
    assertEquals(Status.OK, stats.getStatus(), stats.getError());
    assertEquals(302, stats.getInodeCount());
    MetaResponse found = back.readLocally(lookup(ROOT, "while-away-299"));
    assertEquals(Status.OK, found.getStatus(), found.getError());
    assertTrue(back.latestSnapshotIndex() > 100, "installed a snapshot from the leader");
  }

  // ------------------------------------------------------------------ helpers

  /** Default configs for a group of three members on free loopback ports. */
  private List<RaftControlPlane.Config> threeMemberConfigs() throws IOException {
    List<RaftPeer> peers = new ArrayList<>();
    for (String id : List.of("m1", "m2", "m3")) {
      peers.add(RaftControlPlane.peer(id, "127.0.0.1:" + freePort()));
    }
    return peers.stream().map(p -> RaftControlPlane.Config.of(p.getId().toString(), peers,
        tmp.resolve(p.getId().toString()))).toList();
  }

  /** Starts every member and waits until the first one knows a leader. */
  private List<RaftControlPlane> startGroup(List<RaftControlPlane.Config> configs)
      throws Exception {
    List<RaftControlPlane> members = new ArrayList<>();
    for (RaftControlPlane.Config c : configs) {
      RaftControlPlane m = new RaftControlPlane(c);
      open.add(m);
      m.start();
      members.add(m);
    }
    waitFor(Duration.ofSeconds(30), () -> members.get(0).leaderId().isPresent());
    return members;
  }

  /** The first index still in the member's Raft log (segments purged below it). */
  private static long firstLogIndex(RaftControlPlane m) {
    try {
      return m.firstLogIndex();
    } catch (IOException e) {
      return -1;
    }
  }

  private RaftControlPlane start(RaftControlPlane.Config config) throws Exception {
    RaftControlPlane plane = new RaftControlPlane(config);
    open.add(plane);
    plane.start();
    waitFor(Duration.ofSeconds(30), () -> plane.leaderId().isPresent());
    return plane;
  }

  private void stop(RaftControlPlane plane) throws IOException {
    plane.close();
    open.remove(plane);
  }

  private long inodeCount(RaftControlPlane plane) throws Exception {
    return ok(plane, MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()).build()).getInodeCount();
  }

  private MetaRequest mknod(long parent, String name, FileType type) {
    return MetaRequest.newBuilder().setCaller(USER).setMakeNode(MakeNodeOp.newBuilder()
        .setParent(parent).setName(name).setType(type).setMode(0644).setNowNs(clock += 1000)).build();
  }

  private MetaRequest link(long ino, long parent, String name) {
    return MetaRequest.newBuilder().setCaller(USER).setLink(LinkOp.newBuilder()
        .setInode(ino).setNewParent(parent).setNewName(name).setNowNs(clock += 1000)).build();
  }

  private MetaRequest unlink(long parent, String name) {
    return MetaRequest.newBuilder().setCaller(USER).setUnlink(UnlinkOp.newBuilder()
        .setParent(parent).setName(name).setNowNs(clock += 1000)).build();
  }

  private static MetaRequest lookup(long parent, String name) {
    return MetaRequest.newBuilder().setLookup(LookupOp.newBuilder().setParent(parent).setName(name)).build();
  }

  private static MetaRequest getAttr(long ino) {
    return MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(ino)).build();
  }

  private static Path findDir(Path root, String name) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(p -> Files.isDirectory(p) && p.getFileName().toString().equals(name))
          .findFirst().orElseThrow(() -> new AssertionError("no " + name + " under " + root));
    }
  }
}
