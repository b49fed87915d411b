package io.shoalfs.server.data;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.ClientPool;
import io.shoalfs.rpc.RpcClient;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Connections from this data node to its peers' data planes, one {@link RpcClient} per
 * address, made on first use and reused (each keeps one multiplexed connection and
 * reconnects by itself after losing it). Used for chain forwarding, for pulling replicas and
 * by the healer. Thread-safe.
 *
 * <p>Answers complete on a client's event loop: callers chain only cheap, non-blocking work
 * onto them and hand disk work to an executor.
 */
public final class DownstreamClients implements AutoCloseable {
  /** Room for a 4 MiB replication read and then some; the server default. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final Duration timeout;
  private final ClientPool pool;

  public DownstreamClients() {
    this(DEFAULT_MAX_FRAME_BYTES, DEFAULT_TIMEOUT);
  }

  /**
   * @param maxFrameBytes the frame limit of every connection (match the servers')
   * @param timeout how long {@link #send(String, DataRequest)} waits for an answer
   */
  public DownstreamClients(int maxFrameBytes, Duration timeout) {
    if (maxFrameBytes <= 0 || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("frame limit and timeout must be positive");
    }
    this.pool = new ClientPool("data", maxFrameBytes);
    this.timeout = timeout;
  }

  /** {@link #send(String, DataRequest, Duration)} with the default timeout. */
  public CompletableFuture<DataResponse> send(String address, DataRequest request) {
    return send(address, request, timeout);
  }

  /**
   * Sends a data request to the data plane at {@code address} ({@code host:port}). Completes
   * with the peer's answer whatever its status; fails with {@link RpcException} when there
   * is no answer (UNAVAILABLE, DEADLINE_EXCEEDED, ...).
   */
  public CompletableFuture<DataResponse> send(String address, DataRequest request,
      Duration timeout) {
    RpcClient client;
    try {
      client = pool.clientFor(address);
    } catch (RpcException e) {
      return CompletableFuture.failedFuture(e);
    }
    Envelope envelope = Envelope.newBuilder().setDataRequest(request).build();
    return client.call(envelope, timeout).thenCompose(response -> {
      if (!response.hasDataResponse()) {
        return CompletableFuture.failedFuture(new RpcException(Status.INTERNAL,
            address + " answered a data request with " + response.getBodyCase()));
      }
      return CompletableFuture.completedFuture(response.getDataResponse());
    });
  }

  /** Closes every connection; sends after this fail with UNAVAILABLE. */
  @Override
  public void close() {
    pool.close();
  }
}
