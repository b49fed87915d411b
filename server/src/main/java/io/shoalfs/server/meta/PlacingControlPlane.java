package io.shoalfs.server.meta;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Fills in an allocate_chunk request (or a make_node's first_chunk) from this server's view of
 * the membership before it is proposed: candidates in placement order ({@link ChunkPlacement}),
 * the live ids, the replication factor and the minimum. Only data nodes are placed on or live:
 * a member that serves metadata only never holds a chunk. The state machine cannot ask the
 * membership itself (apply must be deterministic), so the proposer decides and the log carries
 * the decision.
 * A lease_inodes gets the factor and the minimum too: the mount places its new files' chunks
 * itself and is told them in the answer. Every other request, and start/close/leaderId, pass
 * through to the delegate unchanged.
 */
public final class PlacingControlPlane extends ProposalRewriter {

  private final Supplier<ClusterView> cluster;
  private final int replication;
  private final int minReplicas;

  /**
   * @param delegate the control plane that proposes and applies
   * @param cluster every known member with its state, roles and free space
   * @param replication the configured factor; capped at the number of known data nodes
   *     (whatever their state)
   * @param minReplicas the fewest replicas a chunk may be written with; capped at the
   *     (capped) factor
   */
  public PlacingControlPlane(ControlPlaneOrchestrator delegate, Supplier<ClusterView> cluster,
      int replication, int minReplicas) {
    super(delegate);
    if (replication < 1 || minReplicas < 1) {
      throw new IllegalArgumentException(
          "replication " + replication + " and min replicas " + minReplicas + " must be >= 1");
    }
    this.cluster = Objects.requireNonNull(cluster, "cluster");
    this.replication = replication;
    this.minReplicas = minReplicas;
  }

  @Override
  boolean rewrites(MetaRequest request) {
    return request.getOpCase() == MetaRequest.OpCase.ALLOCATE_CHUNK
        || request.getOpCase() == MetaRequest.OpCase.LEASE_INODES
        || (request.getOpCase() == MetaRequest.OpCase.MAKE_NODE
            && request.getMakeNode().hasFirstChunk());
  }

  @Override
  MetaRequest rewrite(MetaRequest request) {
    return place(request);
  }

  /**
   * The request with candidates, live, replication and min_replicas set from the membership:
   * an allocate_chunk's, or the first_chunk of a make_node; replication and min_replicas of a
   * lease_inodes.
   */
  MetaRequest place(MetaRequest request) {
    if (request.getOpCase() == MetaRequest.OpCase.LEASE_INODES) {
      int known = cluster.get().withRole(MemberRole.DATA).size();
      return request.toBuilder().setLeaseInodes(request.getLeaseInodes().toBuilder()
          .setReplication(factor(known))
          .setMinReplicas(minimum(known))).build();
    }
    if (request.getOpCase() == MetaRequest.OpCase.MAKE_NODE) {
      // The inode does not exist yet, so the rendezvous order is drawn for a random stand-in:
      // what spreads files over the members is that each file gets its own draw.
      ChunkId standIn = ChunkId.newBuilder()
          .setInode(ThreadLocalRandom.current().nextLong())
          .build();
      MakeNodeOp op = request.getMakeNode();
      return request.toBuilder().setMakeNode(op.toBuilder()
          .setFirstChunk(fill(op.getFirstChunk(), standIn))).build();
    }
    AllocateChunkOp op = request.getAllocateChunk();
    return request.toBuilder().setAllocateChunk(fill(op, op.getChunk())).build();
  }

  private AllocateChunkOp fill(AllocateChunkOp op, ChunkId orderFor) {
    ClusterView view = cluster.get();
    List<MemberInfo> up = view.dataNodes();
    int known = view.withRole(MemberRole.DATA).size();
    return op.toBuilder()
        .clearCandidates()
        .addAllCandidates(ChunkPlacement.order(up, orderFor))
        .clearLive()
        .addAllLive(up.stream().map(MemberInfo::getId).toList())
        .setReplication(factor(known))
        .setMinReplicas(minimum(known))
        .build();
  }

  /** The configured factor, capped at the {@code known} data nodes (at least 1). */
  private int factor(int known) {
    return Math.max(1, Math.min(replication, known));
  }

  /** The configured minimum, capped at the factor. */
  private int minimum(int known) {
    return Math.min(minReplicas, factor(known));
  }
}
