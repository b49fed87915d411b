package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.RaftGroupSupport.freePort;
import static io.shoalfs.server.meta.RaftGroupSupport.ok;
import static io.shoalfs.server.meta.RaftGroupSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Measures, and prints, the per-operation latency of a real 3-member metadata group on
 * loopback ({@code -Dmembers=1} for a 1-member group to compare with): sequential mutations,
 * sequential linearizable reads, and a burst of concurrent mutations, all submitted through a
 * follower's plane as a FUSE client's server would. It asserts only that every operation
 * succeeded, never on timing: the figures are for people tuning the Raft settings in
 * {@link RaftControlPlane}. A benchmark, not a test: its name keeps it out of {@code mvn verify}
 * (Surefire runs {@code *Test} classes); {@code scripts/bench-raft.sh} runs it.
 */
class RaftGroupLatencyBench {

  private static final long ROOT = KeySchema.ROOT_INODE;
  // Root: the servers enforce mode bits, and these tests write into the root directory.
  private static final Caller USER = Caller.newBuilder().setUid(0).setGid(0).build();
  private static final int WARMUP = 50;
  private static final int SEQUENTIAL = 500;
  private static final int CONCURRENT = 1000;

  @TempDir Path tmp;
  private final List<RaftControlPlane> members = new ArrayList<>();
  private long clock = 1_000_000_000L;

  @AfterEach
  void closeAll() throws IOException {
    for (RaftControlPlane plane : members) {
      plane.close();
    }
  }

  @Test
  void groupLatency() throws Exception {
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 1; i <= Integer.getInteger("members", 3); i++) {
      peers.add(RaftControlPlane.peer("m" + i, "127.0.0.1:" + freePort()));
    }
    for (RaftPeer p : peers) {
      String id = p.getId().toString();
      RaftControlPlane m = new RaftControlPlane(id, peers, tmp.resolve(id));
      members.add(m);
      m.start();
    }
    waitFor(Duration.ofSeconds(30), () -> members.get(0).leaderId().isPresent());
    // Submit through a follower's plane: its client must find and keep talking to the leader.
    String leader = members.get(0).leaderId().orElseThrow();
    RaftControlPlane via = members.stream()
        .filter(m -> peers.size() == 1 || !m.selfId().equals(leader)).findFirst().orElseThrow();

    for (int i = 0; i < WARMUP; i++) {
      ok(via, mknod("warm" + i));
      ok(via, lookup("warm" + i));
    }
    long[] writes = new long[SEQUENTIAL];
    for (int i = 0; i < SEQUENTIAL; i++) {
      long start = System.nanoTime();
      ok(via, mknod("f" + i));
      writes[i] = System.nanoTime() - start;
    }
    long[] reads = new long[SEQUENTIAL];
    for (int i = 0; i < SEQUENTIAL; i++) {
      long start = System.nanoTime();
      ok(via, lookup("f" + i));
      reads[i] = System.nanoTime() - start;
    }
    long burstNanos = burst(via, "c");

    // The same burst handed to the leader's own plane, as a FUSE client's calls arrive: group
    // commit gathers what arrives while an entry is on its way.
    RaftControlPlane leaderPlane = members.stream()
        .filter(m -> m.selfId().equals(leader)).findFirst().orElseThrow();
    long entriesBefore = leaderPlane.localSubmits();
    long leaderNanos = burst(leaderPlane, "l");
    long entries = leaderPlane.localSubmits() - entriesBefore;

    int n = peers.size();
    System.out.printf("%d-member group, %d sequential make_node: %s%n", n, SEQUENTIAL,
        summary(writes));
    System.out.printf("%d-member group, %d sequential lookup:    %s%n", n, SEQUENTIAL,
        summary(reads));
    System.out.printf("%d-member group, %d concurrent make_node: %.0f ops/s (%.2f ms wall per op)%n",
        n, CONCURRENT, CONCURRENT / (burstNanos / 1e9), burstNanos / 1e6 / CONCURRENT);
    System.out.printf("%d-member group, %d concurrent make_node to the leader: %.0f ops/s "
        + "(%.2f ms wall per op) in %d log entries%n",
        n, CONCURRENT, CONCURRENT / (leaderNanos / 1e9), leaderNanos / 1e6 / CONCURRENT, entries);
    assertTrue(entries < CONCURRENT, "concurrent mutations shared log entries: " + entries);
    assertEquals(1 + WARMUP + SEQUENTIAL + 2 * CONCURRENT, inodeCount(via)); // root + every file
  }

  /** Submits CONCURRENT creates without waiting, then waits for all; returns the nanos taken. */
  private long burst(RaftControlPlane plane, String prefix) throws Exception {
    long start = System.nanoTime();
    List<CompletableFuture<MetaResponse>> burst = new ArrayList<>();
    for (int i = 0; i < CONCURRENT; i++) {
      burst.add(plane.submit(mknod(prefix + i)));
    }
    for (CompletableFuture<MetaResponse> f : burst) {
      MetaResponse r = f.get(120, TimeUnit.SECONDS);
      assertEquals(Status.OK, r.getStatus(), r.getError());
    }
    return System.nanoTime() - start;
  }

  private static String summary(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    double mean = Arrays.stream(sorted).average().orElse(0) / 1e6;
    return String.format("mean %.2f ms, p50 %.2f ms, p99 %.2f ms, max %.2f ms", mean,
        sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6,
        sorted[sorted.length - 1] / 1e6);
  }

  private long inodeCount(RaftControlPlane plane) throws Exception {
    return ok(plane, MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()).build()).getInodeCount();
  }

  private MetaRequest mknod(String name) {
    return MetaRequest.newBuilder().setCaller(USER).setMakeNode(MakeNodeOp.newBuilder()
        .setParent(ROOT).setName(name).setType(FileType.REGULAR).setMode(0644)
        .setNowNs(clock += 1000)).build();
  }

  private static MetaRequest lookup(String name) {
    return MetaRequest.newBuilder().setLookup(LookupOp.newBuilder().setParent(ROOT).setName(name))
        .build();
  }
}
