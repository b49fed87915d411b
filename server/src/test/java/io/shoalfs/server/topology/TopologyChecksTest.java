package io.shoalfs.server.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.server.ServerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each topology takes the flags it needs, refuses the ones it has no use for, and its limits. */
class TopologyChecksTest {
  private static ServerConfig parse(String... flags) {
    List<String> args = new ArrayList<>(List.of("--id", "x1", "--rpc-port", "7101",
        "--data-dir", "d", "--etcd", "http://127.0.0.1:7190"));
    args.addAll(List.of(flags));
    return ServerConfig.parse(args.toArray(String[]::new));
  }

  private static String refusal(Runnable check) {
    return assertThrows(IllegalArgumentException.class, check::run).getMessage();
  }

  @Test
  void convergedNeedsTheRaftPortAndCapsTheFactorAtItsPeers() {
    ConvergedTopology converged = new ConvergedTopology();
    assertTrue(refusal(() -> converged.check(parse())).startsWith("missing --raft-port"));
    assertTrue(refusal(() -> converged.check(parse("--raft-port", "7151", "--role", "data")))
        .startsWith("--role is for the disaggregated topology"));
    ServerConfig alone = converged.check(parse("--raft-port", "7151", "--replication", "3"));
    assertEquals(1, alone.replication(), "one server holds one copy");
    assertEquals(1, alone.minReplicas());
  }

  @Test
  void disaggregatedNeedsARoleAndGivesEachRoleItsFlags() {
    DisaggregatedTopology disaggregated = new DisaggregatedTopology();
    assertTrue(refusal(() -> disaggregated.check(parse("--raft-port", "7151")))
        .startsWith("missing --role"));
    assertTrue(refusal(() -> disaggregated.check(parse("--role", "metadata")))
        .startsWith("missing --raft-port"));
    assertTrue(refusal(() -> disaggregated.check(parse("--role", "data", "--raft-port", "7151")))
        .startsWith("--raft-port is for metadata servers"));
    assertTrue(refusal(() -> parse("--role", "data", "--peers", "x1@127.0.0.1:1"))
        .startsWith("--peers needs --raft-port"));
    assertTrue(refusal(() -> parse("--role", "both")).startsWith("--role must be metadata or data"));

    ServerConfig metadata = disaggregated.check(parse("--role", "metadata", "--raft-port", "7151",
        "--replication", "3"));
    assertEquals(Optional.of(MemberRole.METADATA), metadata.role());
    assertEquals(3, metadata.replication(), "not capped by the metadata group's size");
    ServerConfig data = disaggregated.check(parse("--role", "data"));
    assertEquals(Optional.of(MemberRole.DATA), data.role());
    assertEquals(List.of(), data.peers());
    assertEquals(0, data.raftPort());
  }

  @Test
  void theFirstLiveDataNodeAloneGetsToPurgeForTheDead() {
    ClusterView view = ClusterView.of(List.of(member("d1", MemberState.DEAD, MemberRole.DATA),
        member("d2", MemberState.UP, MemberRole.DATA), member("d3", MemberState.UP, MemberRole.DATA),
        member("a0", MemberState.UP, MemberRole.METADATA)));
    assertTrue(DisaggregatedTopology.purgesForTheDead(view, "d2"));
    assertFalse(DisaggregatedTopology.purgesForTheDead(view, "d3"));
    assertFalse(DisaggregatedTopology.purgesForTheDead(view, "a0"), "a metadata server is not a data node");
    assertFalse(DisaggregatedTopology.purgesForTheDead(view, "d1"), "a dead node purges nothing");
  }

  private static MemberInfo member(String id, MemberState state, MemberRole role) {
    return MemberInfo.newBuilder().setId(id).setAddress("127.0.0.1:1").setState(state)
        .addRoles(role).build();
  }
}
