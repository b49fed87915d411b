package io.shoalfs.client;

import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The members as one file operation sees them: addresses by member id, and which are up. Taken
 * once per operation from {@link ShoalTransport#members()}, so that every decision in that
 * operation is made against the same picture.
 */
final class MemberView {
  static final String UP = "up";

  private final Map<String, MemberInfo> byId = new LinkedHashMap<>();

  private MemberView(List<MemberInfo> members) {
    for (MemberInfo m : members) {
      byId.put(m.getId(), m);
    }
  }

  static MemberView of(List<MemberInfo> members) {
    return new MemberView(members);
  }

  static MemberView of(ShoalTransport transport) {
    return new MemberView(transport.members());
  }

  /** Up in this view; a member the view does not know at all is not up. */
  boolean isUp(String id) {
    MemberInfo m = byId.get(id);
    return m != null && UP.equals(m.getState());
  }

  boolean allUp(List<String> ids) {
    return ids.stream().allMatch(this::isUp);
  }

  /** host:port of the member; UNAVAILABLE when this view does not know it. */
  String address(String id) throws RpcException {
    MemberInfo m = byId.get(id);
    if (m == null || m.getAddress().isEmpty()) {
      throw new RpcException(Status.UNAVAILABLE, "member " + id + " is not known to this client");
    }
    return m.getAddress();
  }

  /** The up members, in id order. */
  List<MemberInfo> up() {
    return byId.values().stream().filter(m -> UP.equals(m.getState())).toList();
  }

  /** {@code replicas} with the up ones first, each group in its original (chain) order. */
  List<String> upFirst(List<String> replicas) {
    List<String> ordered = new ArrayList<>(replicas.size());
    replicas.stream().filter(this::isUp).forEach(ordered::add);
    replicas.stream().filter(r -> !isUp(r)).forEach(ordered::add);
    return ordered;
  }
}
