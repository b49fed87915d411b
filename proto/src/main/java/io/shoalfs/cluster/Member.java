package io.shoalfs.cluster;

import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberState;
import java.time.Instant;
import java.util.Optional;

/**
 * One member as a directory sees it: what the member published, plus what the directory knows
 * about the record itself. The state lives in {@code info.state} so that the record a server
 * hands out in a {@code ClusterResponse} carries it too.
 *
 * <p>States: {@link MemberState#UP} while the member's key exists in etcd;
 * {@link MemberState#DOWN} from the moment the key is gone (clean shutdown or lease expiry);
 * {@link MemberState#DEAD} once it has been down longer than the directory's grace period.
 * Down is "expect it back, route around it"; dead is "its replicas are gone for good, copy them
 * elsewhere".
 *
 * @param info what the member published under its key, with the state as the directory sees it
 * @param modRevision the etcd revision of that publication
 * @param lastSeen when the directory last saw the key present
 * @param downSince when the directory saw the key go; null while up
 */
public record Member(MemberInfo info, long modRevision, Instant lastSeen, Instant downSince) {
  /** A member that is up, as published. */
  public Member(MemberInfo info, long modRevision, Instant lastSeen) {
    this(info.toBuilder().setState(MemberState.UP).build(), modRevision, lastSeen, null);
  }

  public String id() {
    return info.getId();
  }

  /** host:port of the member's RPC endpoint. */
  public String address() {
    return info.getAddress();
  }

  /** Up, down or dead. */
  public MemberState state() {
    return info.getState();
  }

  public boolean isUp() {
    return state() == MemberState.UP;
  }

  public boolean isDead() {
    return state() == MemberState.DEAD;
  }

  /** When the member's key went away, if it is down or dead. */
  public Optional<Instant> wentDownAt() {
    return Optional.ofNullable(downSince);
  }

  /** This member, down since {@code at}: what it last published is kept. */
  Member down(Instant at) {
    return new Member(info.toBuilder().setState(MemberState.DOWN).build(), modRevision, lastSeen,
        at);
  }

  /** This member, dead: still down since the same moment. */
  Member dead() {
    return new Member(info.toBuilder().setState(MemberState.DEAD).build(), modRevision, lastSeen,
        downSince);
  }
}
