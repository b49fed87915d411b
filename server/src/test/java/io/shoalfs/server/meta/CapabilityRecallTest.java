package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.RaftGroupSupport.freePort;
import static io.shoalfs.server.meta.RaftGroupSupport.ok;
import static io.shoalfs.server.meta.RaftGroupSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.AcquireCapabilityOp;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.CloseSessionOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.JournalOp;
import io.shoalfs.proto.KeepAliveOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.OpenSessionOp;
import io.shoalfs.proto.ReleaseCapabilityOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Capabilities across a real three-member Raft group (Ratis over Netty on loopback): a request
 * in the way of one waits while it is recalled, every member hears the recall, and the
 * holder's release or end lets the request through; a journal resent across a leader's death
 * is applied once.
 */
class CapabilityRecallTest {

  static final long ROOT = KeySchema.ROOT_INODE;
  // Root: the servers enforce mode bits, and these tests write into the root directory.
  static final Caller USER = Caller.newBuilder().setUid(0).setGid(0).build();
  static final long HOLDER = 0x11;
  static final long WAITER = 0x22;

  @TempDir Path tmp;
  private final List<RaftControlPlane> members = new ArrayList<>();
  private final List<CapabilityRecaller> recallers = new ArrayList<>();
  /** What each member's listener heard, by member. */
  private final List<List<EntryApplier.Recall>> heard = new ArrayList<>();
  private long clock = 1_000_000_000L;
  private long seq = 100;

  @BeforeEach
  void startGroup() throws Exception {
    List<RaftPeer> peers = new ArrayList<>();
    for (String id : List.of("m1", "m2", "m3")) {
      peers.add(RaftControlPlane.peer(id, "127.0.0.1:" + freePort()));
    }
    for (RaftPeer peer : peers) {
      List<EntryApplier.Recall> recalls = new CopyOnWriteArrayList<>();
      heard.add(recalls);
      String id = peer.getId().toString();
      RaftControlPlane member = new RaftControlPlane(
          RaftControlPlane.Config.of(id, peers, tmp.resolve(id)),
          (holder, dir) -> recalls.add(new EntryApplier.Recall(holder, dir)));
      members.add(member);
      member.start();
    }
    waitFor(Duration.ofSeconds(30), () -> members.get(0).leaderId().isPresent());
    ok(members.get(0), openSession(HOLDER));
    ok(members.get(1), openSession(WAITER));
  }

  @AfterEach
  void stopGroup() throws IOException {
    for (CapabilityRecaller recaller : recallers) {
      recaller.close();
    }
    for (RaftControlPlane member : members) {
      member.close();
    }
  }

  /** A recaller in front of {@code member}; closing it leaves the member to the test. */
  private CapabilityRecaller recallerOver(RaftControlPlane member, Duration bound) {
    CapabilityRecaller recaller = new CapabilityRecaller(new ControlPlaneOrchestrator() {
      @Override
      public void start() {}

      @Override
      public CompletableFuture<MetaResponse> submit(MetaRequest request) {
        return member.submit(request);
      }

      @Override
      public Optional<String> leaderId() {
        return member.leaderId();
      }

      @Override
      public void close() {}
    }, bound);
    recallers.add(recaller);
    return recaller;
  }

  @Test
  void aRequestInTheWayWaitsForTheRecallAndGoesThroughWhenTheHolderGivesItBack()
      throws Exception {
    long dir = ok(members.get(0), mknod(0, ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    ok(members.get(2), acquire(HOLDER, dir));
    {
      CapabilityRecaller recaller = recallerOver(members.get(1), Duration.ofSeconds(20));
      MetaRequest create = mknod(WAITER, dir, "x", FileType.REGULAR);
      CompletableFuture<MetaResponse> waiting = recaller.submit(create);
      EntryApplier.Recall recall = new EntryApplier.Recall(HOLDER, dir);
      for (List<EntryApplier.Recall> member : heard) {
        waitFor(Duration.ofSeconds(10), () -> member.contains(recall));
      }
      assertFalse(waiting.isDone(), "still in the holder's way: " + waiting);
      assertEquals(List.of(dir), ok(members.get(2), keepAlive(HOLDER)).getRecalledDirsList(),
          "the holder's keep-alive says so too");

      // The holder's mount flushes and gives the directory back, through its own server.
      ok(members.get(2), release(HOLDER, dir));
      MetaResponse created = waiting.get(10, TimeUnit.SECONDS);
      assertEquals(Status.OK, created.getStatus(), created.getError());
      assertEquals(created.getAttr().getInode(),
          ok(members.get(0), lookup(0, dir, "x")).getAttr().getInode());
      assertEquals(created, members.get(0).submit(create).get(30, TimeUnit.SECONDS),
          "applied once, then answered from the reply table");

      // A read in the way of a holder whose session ends: it goes through with the session.
      long other = ok(members.get(0), mknod(0, ROOT, "e", FileType.DIRECTORY)).getAttr().getInode();
      ok(members.get(0), acquire(HOLDER, other));
      CompletableFuture<MetaResponse> read = recaller.submit(lookup(WAITER, other, "none"));
      for (List<EntryApplier.Recall> member : heard) {
        waitFor(Duration.ofSeconds(10), () -> member.contains(new EntryApplier.Recall(HOLDER, other)));
      }
      assertFalse(read.isDone());
      ok(members.get(0), MetaRequest.newBuilder().setClientId(HOLDER).setRequestSeq(++seq)
          .setCloseSession(CloseSessionOp.getDefaultInstance()).build());
      assertEquals(Status.ENOENT, read.get(10, TimeUnit.SECONDS).getStatus());
    }
  }

  @Test
  void aHolderThatKeepsItPastTheBoundLeavesTheRequestCapHeldAndUnapplied() throws Exception {
    long dir = ok(members.get(0), mknod(0, ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    ok(members.get(0), acquire(HOLDER, dir));
    MetaRequest create = mknod(WAITER, dir, "x", FileType.REGULAR);
    {
      CapabilityRecaller recaller = recallerOver(members.get(2), Duration.ofMillis(1500));
      long started = System.nanoTime();
      MetaResponse answer = recaller.submit(create).get(30, TimeUnit.SECONDS);
      assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(1500));
      assertEquals(Status.CAP_HELD, answer.getStatus());
      assertEquals(HOLDER, answer.getCapHolder());
      assertEquals(dir, answer.getCapDir());
      for (List<EntryApplier.Recall> member : heard) {
        assertTrue(member.contains(new EntryApplier.Recall(HOLDER, dir)), "recalled: " + member);
      }
    }
    ok(members.get(0), release(HOLDER, dir));
    assertEquals(Status.OK, members.get(1).submit(create).get(30, TimeUnit.SECONDS).getStatus(),
        "the refused request was not recorded: the same one is applied now");
  }

  @Test
  void aChangeWaitsUntilEveryReaderGaveItBackAndSoDoesAnExclusiveAcquire() throws Exception {
    long reader2 = 0x33;
    ok(members.get(2), openSession(reader2));
    long dir = ok(members.get(0), mknod(0, ROOT, "d", FileType.DIRECTORY)).getAttr().getInode();
    ok(members.get(0), acquireShared(HOLDER, dir));
    ok(members.get(2), acquireShared(reader2, dir));
    CapabilityRecaller recaller = recallerOver(members.get(1), Duration.ofSeconds(20));

    CompletableFuture<MetaResponse> create = recaller.submit(mknod(WAITER, dir, "x",
        FileType.REGULAR));
    for (long reader : List.of(HOLDER, reader2)) {
      for (List<EntryApplier.Recall> member : heard) {
        waitFor(Duration.ofSeconds(10), () -> member.contains(new EntryApplier.Recall(reader, dir)));
      }
    }
    ok(members.get(0), release(HOLDER, dir));
    Thread.sleep(200);
    assertFalse(create.isDone(), "one reader still holds it: " + create);
    ok(members.get(2), release(reader2, dir));
    assertEquals(Status.OK, create.get(10, TimeUnit.SECONDS).getStatus());

    ok(members.get(0), acquireShared(HOLDER, dir));
    CompletableFuture<MetaResponse> exclusive = recaller.submit(acquire(WAITER, dir));
    waitFor(Duration.ofSeconds(10), () -> heard.get(1).stream()
        .filter(r -> r.equals(new EntryApplier.Recall(HOLDER, dir))).count() == 2);
    assertFalse(exclusive.isDone(), "the reader is in the way");
    ok(members.get(0), release(HOLDER, dir));
    assertTrue(exclusive.get(10, TimeUnit.SECONDS).getCapabilityGranted());
  }

  @Test
  void aJournalResentAcrossTheLeadersDeathIsAppliedOnce() throws Exception {
    String leader = members.get(0).leaderId().orElseThrow();
    RaftControlPlane leaderPlane = members.stream().filter(m -> m.selfId().equals(leader))
        .findFirst().orElseThrow();
    RaftControlPlane follower = members.stream().filter(m -> !m.selfId().equals(leader))
        .findFirst().orElseThrow();
    long before = inodeCount(follower);
    MetaRequest journal = MetaRequest.newBuilder().setCaller(USER).setClientId(HOLDER)
        .setRequestSeq(++seq).setJournal(JournalOp.newBuilder()
            .addOps(mknod(0, ROOT, "j1", FileType.REGULAR))
            .addOps(mknod(0, ROOT, "j2", FileType.DIRECTORY)))
        .build();
    // Sent, and the leader killed while it may still be on its way; then sent again.
    CompletableFuture<MetaResponse> first = follower.submit(journal);
    leaderPlane.close();
    members.remove(leaderPlane);
    CompletableFuture<MetaResponse> resent = follower.submit(journal);
    MetaResponse answer = resent.get(60, TimeUnit.SECONDS);
    assertEquals(Status.OK, answer.getStatus(), answer.getError());
    assertEquals(List.of(Status.OK, Status.OK),
        answer.getBatchedList().stream().map(MetaResponse::getStatus).toList());
    assertEquals(answer, first.get(60, TimeUnit.SECONDS), "one application, one answer");
    assertEquals(answer, follower.submit(journal).get(30, TimeUnit.SECONDS));
    assertEquals(before + 2, inodeCount(follower), "applied once");
    assertEquals(answer.getBatched(0).getAttr().getInode(),
        ok(follower, lookup(0, ROOT, "j1")).getAttr().getInode());
  }

  // ------------------------------------------------------------------ helpers

  private MetaRequest openSession(long client) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(++seq)
        .setOpenSession(OpenSessionOp.newBuilder().setNowNs(clock += 1000)).build();
  }

  private MetaRequest acquire(long client, long dir) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(++seq)
        .setAcquireCapability(AcquireCapabilityOp.newBuilder().setDir(dir)).build();
  }

  private MetaRequest acquireShared(long client, long dir) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(++seq)
        .setAcquireCapability(AcquireCapabilityOp.newBuilder().setDir(dir).setShared(true))
        .build();
  }

  private MetaRequest release(long client, long dir) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(++seq)
        .setReleaseCapability(ReleaseCapabilityOp.newBuilder().addDirs(dir)).build();
  }

  private MetaRequest keepAlive(long client) {
    return MetaRequest.newBuilder().setClientId(client).setRequestSeq(++seq)
        .setKeepAlive(KeepAliveOp.newBuilder().setNowNs(clock += 1000)).build();
  }

  /** A create by {@code client} (0: a server's, untracked). */
  private MetaRequest mknod(long client, long parent, String name, FileType type) {
    MetaRequest.Builder b = MetaRequest.newBuilder().setCaller(USER).setMakeNode(
        MakeNodeOp.newBuilder().setParent(parent).setName(name).setType(type).setMode(0755)
            .setNowNs(clock += 1000));
    if (client != 0) {
      b.setClientId(client).setRequestSeq(++seq);
    }
    return b.build();
  }

  private static MetaRequest lookup(long client, long parent, String name) {
    return MetaRequest.newBuilder().setClientId(client)
        .setLookup(LookupOp.newBuilder().setParent(parent).setName(name)).build();
  }

  private static long inodeCount(RaftControlPlane plane) throws Exception {
    return ok(plane, MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()).build()).getInodeCount();
  }
}
