package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusReportTest {
  private static final long GIB = 1L << 30;

  private static MemberInfo member(String id, String state, long capacity, long free) {
    return MemberInfo.newBuilder()
        .setId(id)
        .setAddress("127.0.0.1:760" + id.charAt(1))
        .setState(state)
        .setCapacityBytes(capacity)
        .setFreeBytes(free)
        .build();
  }

  private static ClusterResponse threeServers() {
    return ClusterResponse.newBuilder()
        .addMembers(member("s1", "up", 10 * GIB, 4 * GIB))
        .addMembers(member("s2", "down", 10 * GIB, 9 * GIB))
        .addMembers(member("s3", "up", 20 * GIB, 2 * GIB + GIB / 2))
        .setMetaLeader("s3")
        .setInodeCount(1234)
        .setChunkCount(56)
        .setUnderReplicated(7)
        .setReplication(3)
        .build();
  }

  @Test
  void printsEveryMemberWithItsState() {
    List<String> lines = StatusReport.format(threeServers()).lines().toList();
    assertEquals(
        "MEMBER   ADDRESS                STATE     CAPACITY         FREE", lines.get(0));
    assertEquals(
        "s1       127.0.0.1:7601         up        10.0 GiB      4.0 GiB", lines.get(1));
    assertEquals(
        "s2       127.0.0.1:7602         down      10.0 GiB      9.0 GiB", lines.get(2));
    assertEquals(
        "s3       127.0.0.1:7603         up        20.0 GiB      2.5 GiB", lines.get(3));
  }

  @Test
  void printsClusterFiguresOnePerLine() {
    List<String> lines = StatusReport.format(threeServers()).lines().toList();
    assertEquals(
        List.of(
            "metadata leader: s3",
            "members: 2 up of 3",
            // The down member's space is not counted.
            "capacity: 30.0 GiB total, 6.5 GiB free (up members)",
            "replication: 3",
            "inodes: 1234",
            "chunks: 56",
            "under-replicated: 7"),
        lines.subList(4, lines.size()));
  }

  @Test
  void saysSoWhenThereIsNoLeaderOrAnError() {
    String text = StatusReport.format(
        ClusterResponse.newBuilder()
            .setStatus(Status.UNAVAILABLE)
            .setError("no metadata leader")
            .addMembers(member("s1", "dead", GIB, GIB))
            .build());
    assertTrue(text.startsWith("error: UNAVAILABLE: no metadata leader\n"), text);
    assertTrue(text.contains("\nmetadata leader: (none)\n"), text);
    assertTrue(text.contains("\nmembers: 0 up of 1\n"), text);
    assertTrue(text.contains("s1       127.0.0.1:7601         dead"), text);
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
