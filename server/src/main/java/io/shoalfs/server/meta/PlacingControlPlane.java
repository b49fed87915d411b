package io.shoalfs.server.meta;

import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Fills in an allocate_chunk request from this server's view of the membership before it is
 * proposed: candidates in placement order ({@link ChunkPlacement}), the live member ids, the
 * replication factor and the minimum. The state machine cannot ask the membership itself
 * (apply must be deterministic), so the proposer decides and the log carries the decision.
 * Every other request, and start/close/leaderId, pass through to the delegate unchanged.
 */
public final class PlacingControlPlane implements ControlPlaneOrchestrator {

  /** The {@link MemberInfo#getState()} of a member that holds a lease. */
  public static final String UP = "up";

  private final ControlPlaneOrchestrator delegate;
  private final Supplier<List<MemberInfo>> members;
  private final int replication;
  private final int minReplicas;

  /**
   * @param delegate the control plane that proposes and applies
   * @param members every known member with its state (up, down, dead) and free space
   * @param replication the configured factor; capped at the number of known members
   * @param minReplicas the fewest replicas a chunk may be written with; capped at the
   *     (capped) factor
   */
  public PlacingControlPlane(ControlPlaneOrchestrator delegate, Supplier<List<MemberInfo>> members,
      int replication, int minReplicas) {
    if (replication < 1 || minReplicas < 1) {
      throw new IllegalArgumentException(
          "replication " + replication + " and min replicas " + minReplicas + " must be >= 1");
    }
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.members = Objects.requireNonNull(members, "members");
    this.replication = replication;
    this.minReplicas = minReplicas;
  }

  @Override
  public void start() throws IOException {
    delegate.start();
  }

  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    if (request.getOpCase() != MetaRequest.OpCase.ALLOCATE_CHUNK) {
      return delegate.submit(request);
    }
    MetaRequest placed;
    try {
      placed = place(request);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return delegate.submit(placed);
  }

  /** The request with candidates, live, replication and min_replicas set from the membership. */
  MetaRequest place(MetaRequest request) {
    List<MemberInfo> known = members.get();
    List<MemberInfo> up = known.stream().filter(m -> UP.equals(m.getState())).toList();
    int factor = Math.max(1, Math.min(replication, known.size()));
    int minimum = Math.min(minReplicas, factor);
    AllocateChunkOp op = request.getAllocateChunk();
    AllocateChunkOp filled = op.toBuilder()
        .clearCandidates()
        .addAllCandidates(ChunkPlacement.order(up, op.getChunk()))
        .clearLive()
        .addAllLive(up.stream().map(MemberInfo::getId).sorted().toList())
        .setReplication(factor)
        .setMinReplicas(minimum)
        .build();
    return request.toBuilder().setAllocateChunk(filled).build();
  }

  @Override
  public Optional<String> leaderId() {
    return delegate.leaderId();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
