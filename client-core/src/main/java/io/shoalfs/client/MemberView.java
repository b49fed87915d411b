package io.shoalfs.client;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.List;

/**
 * The members as one file operation sees them: a {@link ClusterView} taken once per operation
 * from {@link ShoalTransport#members()}, so that every decision in that operation is made
 * against the same picture, plus what the data path asks of it in the client's terms (an
 * unknown address is UNAVAILABLE).
 */
final class MemberView {
  private final ClusterView cluster;

  private MemberView(List<MemberInfo> members) {
    this.cluster = ClusterView.of(members);
  }

  static MemberView of(List<MemberInfo> members) {
    return new MemberView(members);
  }

  static MemberView of(ShoalTransport transport) {
    return new MemberView(transport.members());
  }

  /**
   * True if every one of {@code replicas} is on a data node (a member that stores chunks and is
   * up); a member the view does not know at all is none.
   */
  boolean allOnDataNodes(List<String> replicas) {
    return replicas.stream().allMatch(cluster::isDataNode);
  }

  /** host:port of the member; UNAVAILABLE when this view does not know it. */
  String address(String id) throws RpcException {
    MemberInfo m = cluster.member(id).orElse(null);
    if (m == null || m.getAddress().isEmpty()) {
      throw new RpcException(Status.UNAVAILABLE, "member " + id + " is not known to this client");
    }
    return m.getAddress();
  }

  /** The member's record as this view has it. */
  java.util.Optional<MemberInfo> member(String id) {
    return cluster.member(id);
  }

  /** The data nodes (members that store chunks and are up), in id order. */
  List<MemberInfo> dataNodes() {
    return cluster.dataNodes();
  }

  /**
   * {@code replicas} with those on data nodes first, each group in its original (chain) order:
   * the order to try them in.
   */
  List<String> dataNodesFirst(List<String> replicas) {
    List<String> ordered = new ArrayList<>(replicas.size());
    replicas.stream().filter(cluster::isDataNode).forEach(ordered::add);
    replicas.stream().filter(r -> !cluster.isDataNode(r)).forEach(ordered::add);
    return ordered;
  }
}
