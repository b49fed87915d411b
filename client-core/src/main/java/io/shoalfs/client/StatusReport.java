package io.shoalfs.client;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.ChunkCounts;
import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.Status;
import java.time.Duration;
import java.time.Instant;

/**
 * Renders a cluster status answer as the text {@code shoal status} prints: a member table, then
 * one {@code name: value} line per cluster figure. Scripts read those lines (the e2e suite greps
 * {@code metadata leader:}, {@code members:}, {@code chunks:}, {@code under-replicated:} and
 * {@code counted:}), so keep their names stable. They read the table too: a member's id is its
 * first column and its state ({@code up}, {@code down}, {@code dead}) its third (the e2e suite
 * and the container health check), so new columns go after those.
 *
 * <p>The ROLES column says what each member serves: {@code metadata,data} (every server of the
 * converged topology, and any member that publishes no role), {@code metadata} or {@code data}.
 * The capacity line sums the data nodes that are up: a metadata server's disk holds no chunk.
 *
 * <p>The chunk figures are those of the metadata leader's last complete healing pass, not of
 * this moment: {@code counted:} says when that pass ran (its start and end, UTC) and how long
 * ago it ended. Until a pass has ended under the current leader they are {@code unknown}, never
 * a guess.
 */
final class StatusReport {
  private static final String ROW = "%-8s %-22s %-5s %-13s %12s %12s%n";

  private StatusReport() {}

  static String format(ClusterResponse r) {
    return format(r, Instant.now());
  }

  /** @param now the clock the age of the chunk counts is measured by */
  static String format(ClusterResponse r, Instant now) {
    StringBuilder sb = new StringBuilder();
    if (r.getStatus() != Status.OK || !r.getError().isEmpty()) {
      sb.append("error: ").append(r.getStatus());
      if (!r.getError().isEmpty()) {
        sb.append(": ").append(r.getError());
      }
      sb.append('\n');
    }
    sb.append(String.format(ROW, "MEMBER", "ADDRESS", "STATE", "ROLES", "CAPACITY", "FREE"));
    for (MemberInfo m : r.getMembersList()) {
      sb.append(String.format(ROW, m.getId(), m.getAddress(), ClusterView.stateName(m.getState()),
          ClusterView.roleNames(m), human(m.getCapacityBytes()), human(m.getFreeBytes())));
    }
    ClusterView cluster = ClusterView.of(r.getMembersList());
    long capacity = 0;
    long free = 0;
    // A down member's last figures are stale and its space cannot be written to.
    for (MemberInfo m : cluster.dataNodes()) {
      capacity += m.getCapacityBytes();
      free += m.getFreeBytes();
    }
    int up = cluster.up().size();
    sb.append("metadata leader: ")
        .append(r.getMetaLeader().isEmpty() ? "(none)" : r.getMetaLeader()).append('\n');
    sb.append("members: ").append(up).append(" up of ").append(r.getMembersCount()).append('\n');
    sb.append("capacity: ").append(human(capacity)).append(" total, ")
        .append(human(free)).append(" free (up data nodes)\n");
    sb.append("replication: ").append(r.getReplication()).append('\n');
    sb.append("inodes: ").append(r.getInodeCount()).append('\n');
    sb.append("metadata log index: ").append(r.getMetaAppliedIndex()).append('\n');
    appendChunkCounts(sb, r, now);
    return sb.toString();
  }

  private static void appendChunkCounts(StringBuilder sb, ClusterResponse r, Instant now) {
    if (!r.hasPassCounts()) {
      sb.append("chunks: unknown\n");
      sb.append("under-replicated: unknown\n");
      sb.append("counted: not yet (").append(r.getMetaLeader().isEmpty() ? "no metadata leader"
          : "no healing pass of the metadata leader " + r.getMetaLeader()
              + " has ended since it began to lead").append(')');
      return;
    }
    ChunkCounts c = r.getPassCounts();
    Instant ended = Instant.ofEpochMilli(c.getPassEndedMs());
    long ago = Math.max(0, Duration.between(ended, now).toSeconds());
    sb.append("chunks: ").append(Long.toUnsignedString(c.getChunks())).append('\n');
    sb.append("under-replicated: ").append(Long.toUnsignedString(c.getUnderReplicated()))
        .append('\n');
    sb.append("counted: ").append(Instant.ofEpochMilli(c.getPassStartedMs())).append(" to ")
        .append(ended).append(" by the healing pass of ").append(r.getMetaLeader())
        .append(" (ended ").append(ago).append(" s ago)");
  }

  static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    // Unsigned: proto uint64 arrives as a Java long.
    double v = bytes >= 0 ? bytes : bytes + 0x1p64;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? String.format("%d B", (long) v) : String.format("%.1f %s", v, units[u]);
  }
}
