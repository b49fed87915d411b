package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.ChunkCounts;
import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.Status;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusReportTest {
  private static final long GIB = 1L << 30;

  private static MemberInfo member(String id, MemberState state, long capacity, long free) {
    return MemberInfo.newBuilder()
        .setId(id)
        .setAddress("127.0.0.1:760" + id.charAt(1))
        .setState(state)
        .setCapacityBytes(capacity)
        .setFreeBytes(free)
        .build();
  }

  private static MemberInfo role(MemberInfo member, MemberRole role) {
    return member.toBuilder().addRoles(role).build();
  }

  private static ClusterResponse threeServers() {
    return ClusterResponse.newBuilder()
        .addMembers(member("s1", MemberState.UP, 10 * GIB, 4 * GIB))
        .addMembers(member("s2", MemberState.DOWN, 10 * GIB, 9 * GIB))
        .addMembers(member("s3", MemberState.UP, 20 * GIB, 2 * GIB + GIB / 2))
        .setMetaLeader("s3")
        .setInodeCount(1234)
        .setMetaAppliedIndex(5678)
        .setChunkCount(56)
        .setUnderReplicated(7)
        .setPassCounts(ChunkCounts.newBuilder().setChunks(56).setUnderReplicated(7)
            .setPassStartedMs(PASS_START.toEpochMilli()).setPassEndedMs(PASS_END.toEpochMilli()))
        .setReplication(3)
        .build();
  }

  private static final Instant PASS_START = Instant.parse("2026-03-01T10:00:00Z");
  private static final Instant PASS_END = Instant.parse("2026-03-01T10:00:02.500Z");

  @Test
  void printsEveryMemberWithItsStateAndRoles() {
    List<String> lines = StatusReport.format(threeServers()).lines().toList();
    assertEquals(
        "MEMBER   ADDRESS                STATE ROLES             CAPACITY         FREE",
        lines.get(0));
    // No role published: both, as a converged server is.
    assertEquals(
        "s1       127.0.0.1:7601         up    metadata,data     10.0 GiB      4.0 GiB",
        lines.get(1));
    assertEquals(
        "s2       127.0.0.1:7602         down  metadata,data     10.0 GiB      9.0 GiB",
        lines.get(2));
    assertEquals(
        "s3       127.0.0.1:7603         up    metadata,data     20.0 GiB      2.5 GiB",
        lines.get(3));
  }

  @Test
  void saysWhatEachMemberServesAndCountsOnlyDataNodesSpace() {
    ClusterResponse split = ClusterResponse.newBuilder()
        .addMembers(role(member("d1", MemberState.UP, 10 * GIB, 4 * GIB), MemberRole.DATA))
        .addMembers(role(member("d2", MemberState.DOWN, 10 * GIB, 9 * GIB), MemberRole.DATA))
        .addMembers(role(member("m1", MemberState.UP, 100 * GIB, 90 * GIB), MemberRole.METADATA))
        .addMembers(role(role(member("s4", MemberState.UP, 20 * GIB, 2 * GIB),
            MemberRole.DATA), MemberRole.METADATA))
        .setMetaLeader("m1")
        .setReplication(2)
        .build();
    String text = StatusReport.format(split);
    List<String> lines = text.lines().toList();
    assertEquals(
        "d1       127.0.0.1:7601         up    data              10.0 GiB      4.0 GiB",
        lines.get(1));
    assertEquals(
        "m1       127.0.0.1:7601         up    metadata         100.0 GiB     90.0 GiB",
        lines.get(3));
    assertEquals(
        "s4       127.0.0.1:7604         up    metadata,data     20.0 GiB      2.0 GiB",
        lines.get(4), "listed in role order, whatever order the record has");
    assertTrue(text.contains("\nmembers: 3 up of 4\n"), text);
    assertTrue(text.contains("\ncapacity: 30.0 GiB total, 6.0 GiB free (up data nodes)\n"),
        "the metadata server's disk and the down data node are left out: " + text);
    // What the e2e suite and the health check read: the id first, the state third.
    for (String line : lines.subList(1, 5)) {
      String[] fields = line.split("\\s+");
      assertTrue(List.of("up", "down").contains(fields[2]), line);
    }
  }

  @Test
  void printsClusterFiguresOnePerLine() {
    List<String> lines = StatusReport.format(threeServers(), PASS_END.plusSeconds(12))
        .lines().toList();
    assertEquals(
        List.of(
            "metadata leader: s3",
            "members: 2 up of 3",
            // The down member's space is not counted.
            "capacity: 30.0 GiB total, 6.5 GiB free (up data nodes)",
            "replication: 3",
            "inodes: 1234",
            "metadata log index: 5678",
            "chunks: 56",
            "under-replicated: 7",
            "counted: 2026-03-01T10:00:00Z to 2026-03-01T10:00:02.500Z by the healing pass of s3"
                + " (ended 12 s ago)"),
        lines.subList(4, lines.size()));
  }

  @Test
  void chunkCountsNotYetKnownAreSaidToBeUnknownNotZero() {
    ClusterResponse noPassYet = threeServers().toBuilder().clearPassCounts().clearChunkCount()
        .clearUnderReplicated().build();
    List<String> lines = StatusReport.format(noPassYet).lines().toList();
    assertEquals(
        List.of(
            "chunks: unknown",
            "under-replicated: unknown",
            "counted: not yet (no healing pass of the metadata leader s3 has ended since it"
                + " began to lead)"),
        lines.subList(lines.size() - 3, lines.size()));
    String leaderless = StatusReport.format(noPassYet.toBuilder().clearMetaLeader().build());
    assertTrue(leaderless.endsWith("\ncounted: not yet (no metadata leader)"), leaderless);
  }

  @Test
  void aClockBehindTheLeadersNeverShowsANegativeAge() {
    String text = StatusReport.format(threeServers(), PASS_END.minusSeconds(3));
    assertTrue(text.endsWith("(ended 0 s ago)"), text);
  }

  @Test
  void saysSoWhenThereIsNoLeaderOrAnError() {
    String text = StatusReport.format(
        ClusterResponse.newBuilder()
            .setStatus(Status.UNAVAILABLE)
            .setError("no metadata leader")
            .addMembers(member("s1", MemberState.DEAD, GIB, GIB))
            .build());
    assertTrue(text.startsWith("error: UNAVAILABLE: no metadata leader\n"), text);
    assertTrue(text.contains("\nmetadata leader: (none)\n"), text);
    assertTrue(text.contains("\nmembers: 0 up of 1\n"), text);
    assertTrue(text.contains("s1       127.0.0.1:7601         dead  metadata,data"), text);
    assertTrue(text.contains("capacity: 0 B total, 0 B free"), text);
  }

  @Test
  void anOkAnswerHasNoErrorLine() {
    assertFalse(StatusReport.format(threeServers()).contains("error"));
  }

  @Test
  void humanSizes() {
    assertEquals("0 B", StatusReport.human(0));
    assertEquals("1023 B", StatusReport.human(1023));
    assertEquals("1.0 KiB", StatusReport.human(1024));
    assertEquals("1.5 MiB", StatusReport.human(3L << 19));
    assertEquals("300.0 MiB", StatusReport.human(300L << 20));
    assertEquals("16.0 EiB", StatusReport.human(-1L)); // uint64 max
  }
}
