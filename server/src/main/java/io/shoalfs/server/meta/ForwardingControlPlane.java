package io.shoalfs.server.meta;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.ClientPool;
import io.shoalfs.rpc.RpcException;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * The control plane of a server outside the metadata group (a data node): every call goes over
 * RPC to a metadata server, which runs it through the group as if a mount had sent it.
 *
 * <p>Which server: the one last named as leader first, since it answers without a hop inside the
 * group, then the other metadata endpoints the cluster view lists as up, in id order. Only a call
 * no server took (UNAVAILABLE: it could not connect, or lost the connection) moves on to the next;
 * that is safe to repeat because what a data node sends (garbage listings, purges, replica
 * checks) is idempotent, and a mount's mutation carries its session and sequence, which the
 * group answers once. An answer with any other failure is the caller's.
 */
public final class ForwardingControlPlane implements ControlPlaneOrchestrator {
  private final Supplier<ClusterView> cluster;
  private final ClientPool connections;
  private final Duration timeout;
  private volatile String leader;

  /**
   * @param connections to the metadata servers; owned (closed) by this plane
   * @param timeout how long one attempt waits for an answer
   */
  public ForwardingControlPlane(Supplier<ClusterView> cluster, ClientPool connections,
      Duration timeout) {
    this.cluster = cluster;
    this.connections = connections;
    this.timeout = timeout;
  }

  /** Nothing to join: connections are made on the first call. */
  @Override
  public void start() {}

  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    List<String> targets = targets(cluster.get());
    if (targets.isEmpty()) {
      return CompletableFuture.failedFuture(new RpcException(Status.UNAVAILABLE,
          "no metadata server is up"));
    }
    Envelope envelope = Envelope.newBuilder().setMetaRequest(request).build();
    return attempt(envelope, targets, 0);
  }

  private CompletableFuture<MetaResponse> attempt(Envelope envelope, List<String> targets, int i) {
    CompletableFuture<Envelope> call;
    try {
      call = connections.clientFor(targets.get(i)).call(envelope, timeout);
    } catch (RpcException e) {
      call = CompletableFuture.failedFuture(e);
    }
    return call.handle((answer, failure) -> {
      if (failure == null) {
        if (!answer.getMetaLeaderId().isEmpty()) {
          leader = answer.getMetaLeaderId();
        }
        if (!answer.hasMetaResponse()) {
          return CompletableFuture.<MetaResponse>failedFuture(new RpcException(Status.INTERNAL,
              targets.get(i) + " answered a metadata request with " + answer.getBodyCase()));
        }
        return CompletableFuture.completedFuture(answer.getMetaResponse());
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      boolean untaken = cause instanceof RpcException rpc && rpc.status() == Status.UNAVAILABLE;
      if (untaken && i + 1 < targets.size()) {
        return attempt(envelope, targets, i + 1);
      }
      return CompletableFuture.<MetaResponse>failedFuture(cause);
    }).thenCompose(f -> f);
  }

  /** Addresses of the up metadata endpoints, the last known leader first. */
  private List<String> targets(ClusterView view) {
    List<String> out = new ArrayList<>();
    String known = leader;
    for (MemberInfo m : view.metadataEndpoints()) {
      if (m.getId().equals(known)) {
        out.add(0, m.getAddress());
      } else {
        out.add(m.getAddress());
      }
    }
    return out;
  }

  /** The leader the last answer named; empty before any answer. */
  @Override
  public Optional<String> leaderId() {
    return Optional.ofNullable(leader);
  }

  @Override
  public void close() {
    connections.close();
  }
}
