package io.shoalfs.client;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.CapabilityRecall;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcClient;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@link ShoalTransport} over the Netty RPC client, one connection per member address. Metadata
 * calls go to metadata endpoints only (members with the metadata role, see
 * {@link ClusterView}): any of them answers (it forwards the call to the metadata group), so a
 * call that finds its server gone is retried on the next one, a bounded number of times, up
 * ones first. A member that stores chunks only is never asked. Metadata calls go to the
 * metadata leader first when a server has named it: it answers without a hop to another
 * server. Mutations carry a client id and sequence number, so a retry is never applied twice.
 * Data calls go to the member they are addressed to and nowhere else.
 */
final class RpcTransport implements ShoalTransport {
  private final Supplier<List<MemberInfo>> members;
  private final int maxFrameBytes;
  private final Duration callTimeout;
  private final Map<String, RpcClient> clients = new ConcurrentHashMap<>();
  // The metadata leader's member id as the last answering server named it; null = none known.
  private volatile String metaLeader;
  private volatile Consumer<CapabilityRecall> recalls = recall -> { };

  RpcTransport(Supplier<List<MemberInfo>> members, int maxFrameBytes, Duration callTimeout) {
    this.members = members;
    this.maxFrameBytes = maxFrameBytes;
    this.callTimeout = callTimeout;
  }

  @Override
  public CompletableFuture<MetaResponse> meta(MetaRequest request) {
    Envelope e = Envelope.newBuilder().setMetaRequest(request).build();
    return callWithFailover(e, 0).thenApply(Envelope::getMetaResponse);
  }

  @Override
  public CompletableFuture<DataResponse> dataAt(String address, DataRequest request) {
    Envelope e = Envelope.newBuilder().setDataRequest(request).build();
    try {
      return client(address).call(e, callTimeout).thenApply(Envelope::getDataResponse);
    } catch (IllegalArgumentException bad) {
      return CompletableFuture.failedFuture(
          new RpcException(Status.UNAVAILABLE, "bad member address " + address));
    }
  }

  @Override
  public void onRecall(Consumer<CapabilityRecall> listener) {
    this.recalls = listener;
  }

  @Override
  public List<MemberInfo> members() {
    return members.get();
  }

  /**
   * Addresses for metadata calls, among the members with the metadata role: the metadata leader
   * if it is up, then the other metadata endpoints (up), then those that are not up, by id.
   */
  private List<String> metaServers() {
    ClusterView cluster = ClusterView.of(members.get());
    List<String> ordered = new ArrayList<>();
    String leader = metaLeader;
    List<MemberInfo> up = cluster.metadataEndpoints();
    up.stream().filter(m -> m.getId().equals(leader)).forEach(m -> ordered.add(m.getAddress()));
    up.stream().filter(m -> !m.getId().equals(leader)).forEach(m -> ordered.add(m.getAddress()));
    cluster.withRole(MemberRole.METADATA).stream().filter(m -> !cluster.isUp(m.getId()))
        .forEach(m -> ordered.add(m.getAddress()));
    return ordered;
  }

  /** The member id metadata calls go to first, or null; for tests. */
  String metaLeader() {
    return metaLeader;
  }

  /**
   * Tries the servers in turn while none can answer: a server that cannot be reached, or one
   * whose metadata group has no quorum right now (a leader change), is retried on the next
   * server after a growing pause, for at most {@link #RETRY_BUDGET}. Then the caller gets the
   * error (ETIMEDOUT), never a hang. Mutations carry (client id, seq), so a call the
   * group did apply before an answer was lost is answered from its reply table, not re-applied.
   */
  private CompletableFuture<Envelope> callWithFailover(Envelope request, int attempt) {
    return callWithFailover(request, attempt, System.nanoTime() + RETRY_BUDGET.toNanos(), null);
  }

  static final Duration RETRY_BUDGET = Duration.ofSeconds(60);

  /**
   * One metadata attempt waits at most this long before the call goes to the next server
   * (within {@link #RETRY_BUDGET}); safe for mutations, which the state machine applies once
   * per (client id, seq) however many servers forwarded them.
   */
  static final Duration META_ATTEMPT_TIMEOUT = Duration.ofSeconds(15);

  private Duration metaAttemptTimeout() {
    return callTimeout.compareTo(META_ATTEMPT_TIMEOUT) < 0 ? callTimeout : META_ATTEMPT_TIMEOUT;
  }

  /**
   * @param lastTried the server the previous attempt went to (null on the first): this one
   *     goes to the server after it in the current order, which may have changed meanwhile
   *     (members going down, the leader named or forgotten)
   */
  private CompletableFuture<Envelope> callWithFailover(Envelope request, int attempt, long deadline,
      String lastTried) {
    List<String> servers = metaServers();
    if (servers.isEmpty()) {
      return CompletableFuture.failedFuture(new RpcException(Status.UNAVAILABLE,
          "no ShoalFS metadata server is registered"));
    }
    String address = servers.get(lastTried == null ? 0 : (servers.indexOf(lastTried) + 1) % servers.size());
    return client(address).call(request, metaAttemptTimeout())
        .handle((r, err) -> {
          boolean retry;
          if (err == null) {
            retry = r.hasMetaResponse() && r.getMetaResponse().getStatus() == Status.UNAVAILABLE;
          } else {
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            // A server that answers heartbeats but not the call (its own way to the metadata
            // leader is stuck on a member that died silently) is as good as unreachable.
            retry = cause instanceof RpcException re && Replies.isUnreachable(re);
          }
          if (err == null && !r.getMetaLeaderId().isEmpty()) {
            metaLeader = r.getMetaLeaderId();
          } else if (retry) {
            // Whoever we preferred did not answer or knows no leader: plain order until a
            // server names the leader again.
            metaLeader = null;
          }
          if (retry && System.nanoTime() < deadline) {
            long pauseMs = Math.min(1000, 50L << Math.min(attempt, 5));
            Executor later = CompletableFuture.delayedExecutor(pauseMs, TimeUnit.MILLISECONDS);
            return CompletableFuture.supplyAsync(() -> null, later)
                .thenCompose(ignored -> callWithFailover(request, attempt + 1, deadline, address));
          }
          return err == null ? CompletableFuture.completedFuture(r) : CompletableFuture.<Envelope>failedFuture(
              err instanceof CompletionException && err.getCause() != null ? err.getCause() : err);
        })
        .thenCompose(Function.identity());
  }

  private RpcClient client(String address) {
    return clients.computeIfAbsent(address, a -> {
      int colon = a.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("not host:port: " + a);
      }
      return new RpcClient(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)),
          maxFrameBytes, push -> recalls.accept(push.getCapRecall()));
    });
  }

  @Override
  public void close() {
    clients.values().forEach(RpcClient::close);
    clients.clear();
  }
}
