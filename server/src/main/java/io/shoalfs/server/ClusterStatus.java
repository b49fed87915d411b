package io.shoalfs.server;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.meta.AnswerStamps;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Answers {@code shoal status}: the members this server's directory knows, the metadata
 * leader, the inode count (a counter the metadata store keeps), the metadata log index it
 * answered at, and the chunk counts of the
 * metadata leader's last complete healing pass. It never reads the chunk map: the compose
 * health check asks every server every 10 s, and paging through a map of millions for each
 * call would cost more than the healer's own pass, which already reads it at a bounded pace.
 *
 * <p>How the counts reach a server that does not heal: the healer runs on the metadata leader
 * only, and the leader publishes the counts of its last complete pass in its own member record
 * in etcd ({@code MemberInfo.pass_counts}, republished by {@link ShoalServer} within a second
 * of a pass ending), which every server's member directory already watches. So any server
 * answers from memory, from the record of the member it knows as leader. The alternatives
 * cost more: forwarding each status call to the leader adds a hop and fails when the leader
 * cannot be reached; a Raft entry per pass would add a log write every few seconds for a
 * figure that needs no consensus.
 *
 * <p>The answer says how fresh the counts are (the pass's start and end), and has none while
 * they are unknown: counts are taken from the current leader's record only, so right after a
 * start, or after the leader changed, there are none until that leader's first pass ends. A
 * former leader's record (the directory keeps a down member's last record) is never used: it
 * counted a map another server heals now.
 */
final class ClusterStatus {
  private static final MetaRequest NAMESPACE_STATS = MetaRequest.newBuilder()
      .setNamespaceStats(NamespaceStatsOp.getDefaultInstance()).build();

  private final ControlPlaneOrchestrator control;
  private final Supplier<ClusterView> cluster;
  private final int replication;

  /**
   * @param cluster the member set as this server's directory sees it, with what each member
   *     published (its roles among it)
   * @param replication the cluster's replication factor
   */
  ClusterStatus(ControlPlaneOrchestrator control, Supplier<ClusterView> cluster,
      int replication) {
    this.control = control;
    this.cluster = cluster;
    this.replication = replication;
  }

  /** One metadata read (the namespace counters); everything else is in memory. */
  CompletableFuture<ClusterResponse> answer() {
    ClusterView known = cluster.get();
    return control.submit(NAMESPACE_STATS).thenApply(stats -> {
      // Asked after the answer: a plane that forwards learns the leader from it.
      Optional<String> leader = control.leaderId();
      ClusterResponse.Builder b = ClusterResponse.newBuilder()
          .addAllMembers(known.members())
          .setReplication(replication)
          .setInodeCount(stats.getInodeCount())
          .setMetaAppliedIndex(AnswerStamps.logIndexOf(stats.getAppliedIndex()));
      if (stats.getStatus() != Status.OK) {
        b.setStatus(stats.getStatus()).setError("inode count: " + stats.getError());
      }
      leader.ifPresent(b::setMetaLeader);
      leader.flatMap(known::member)
          .filter(MemberInfo::hasPassCounts)
          .map(MemberInfo::getPassCounts)
          .ifPresent(counts -> b.setPassCounts(counts)
              .setChunkCount(counts.getChunks())
              .setUnderReplicated(counts.getUnderReplicated()));
      return b.build();
    });
  }
}
