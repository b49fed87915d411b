package io.shoalfs.client;

import io.shoalfs.proto.ClusterResponse;
import io.shoalfs.proto.MemberInfo;

/** Renders a cluster status answer as the table {@code shoal status} prints. */
final class StatusReport {
  private StatusReport() {}

  static String format(ClusterResponse r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%-8s %-22s %-6s %12s %12s%n", "MEMBER", "ADDRESS", "STATE", "CAPACITY", "FREE"));
    for (MemberInfo m : r.getMembersList()) {
      sb.append(String.format("%-8s %-22s %-6s %12s %12s%n",
          m.getId(), m.getAddress(), m.getState(), human(m.getCapacityBytes()), human(m.getFreeBytes())));
    }
    sb.append("metadata leader: ").append(r.getMetaLeader().isEmpty() ? "(none)" : r.getMetaLeader()).append('\n');
    sb.append("inodes: ").append(r.getInodeCount());
    return sb.toString();
  }

  static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format("%.1f %s", v, units[u]);
  }
}
