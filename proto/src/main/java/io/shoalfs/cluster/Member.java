package io.shoalfs.cluster;

import io.shoalfs.proto.MemberInfo;
import java.time.Instant;

/**
 * One member as a directory sees it: what the member published, plus what the directory knows
 * about the record itself.
 *
 * @param info what the member published under its key
 * @param modRevision the etcd revision of that publication
 * @param lastSeen when the directory last saw the key present. Today a member whose key is gone
 *     is dropped; the down/dead states with a grace period will be computed from this.
 */
public record Member(MemberInfo info, long modRevision, Instant lastSeen) {
  public String id() {
    return info.getId();
  }

  /** host:port of the member's RPC endpoint. */
  public String address() {
    return info.getAddress();
  }

  public String state() {
    return info.getState();
  }
}
