package io.shoalfs.client;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.MemberInfo;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@link ShoalTransport} over the Netty RPC client, one connection per member address. Any
 * server answers metadata calls (the server forwards them to the metadata group), so a call
 * that finds its server gone is retried on the next one, a bounded number of times, up members
 * first. Mutations carry a client id and sequence number, so a retry is never applied twice.
 * Data calls go to the member they are addressed to and nowhere else.
 */
final class RpcTransport implements ShoalTransport {
  private final Supplier<List<MemberInfo>> members;
  private final int maxFrameBytes;
  private final Duration callTimeout;
  private final Map<String, RpcClient> clients = new ConcurrentHashMap<>();

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
  public List<MemberInfo> members() {
    return members.get();
  }

  /** Addresses for metadata calls: members that are up first, then the others, by id. */
  private List<String> metaServers() {
    List<MemberInfo> all = members.get();
    List<String> ordered = new ArrayList<>(all.size());
    all.stream().filter(m -> MemberView.UP.equals(m.getState()))
        .forEach(m -> ordered.add(m.getAddress()));
    all.stream().filter(m -> !MemberView.UP.equals(m.getState()))
        .forEach(m -> ordered.add(m.getAddress()));
    return ordered;
  }

  /** Tries the servers in order; moves on only when a server could not be reached at all. */
  private CompletableFuture<Envelope> callWithFailover(Envelope request, int attempt) {
    List<String> servers = metaServers();
    if (servers.isEmpty()) {
      return CompletableFuture.failedFuture(new RpcException(Status.UNAVAILABLE, "no ShoalFS server is registered"));
    }
    String address = servers.get(attempt % servers.size());
    return client(address).call(request, callTimeout)
        .handle((r, err) -> {
          if (err == null) {
            return CompletableFuture.completedFuture(r);
          }
          Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
          boolean unreachable = cause instanceof RpcException re && re.status() == Status.UNAVAILABLE;
          if (unreachable && attempt + 1 < Math.max(2, servers.size() * 2)) {
            return callWithFailover(request, attempt + 1);
          }
          return CompletableFuture.<Envelope>failedFuture(cause);
        })
        .thenCompose(Function.identity());
  }

  private RpcClient client(String address) {
    return clients.computeIfAbsent(address, a -> {
      int colon = a.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("not host:port: " + a);
      }
      return new RpcClient(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)), maxFrameBytes);
    });
  }

  @Override
  public void close() {
    clients.values().forEach(RpcClient::close);
    clients.clear();
  }
}
