package io.shoalfs.server.data;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcClient;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger LOG = LoggerFactory.getLogger(DownstreamClients.class);
  /** Room for a 4 MiB replication read and then some; the server default. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final int maxFrameBytes;
  private final Duration timeout;
  private final Map<String, RpcClient> clients = new HashMap<>(); // guarded by this
  private boolean closed; // guarded by this

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
    this.maxFrameBytes = maxFrameBytes;
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
      client = clientFor(address);
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
    Map<String, RpcClient> toClose;
    synchronized (this) {
      closed = true;
      toClose = new HashMap<>(clients);
      clients.clear();
    }
    for (RpcClient client : toClose.values()) {
      client.close();
    }
  }

  private synchronized RpcClient clientFor(String address) throws RpcException {
    if (closed) {
      throw new RpcException(Status.UNAVAILABLE, "downstream clients are closed");
    }
    RpcClient client = clients.get(address);
    if (client == null) {
      int colon = address.lastIndexOf(':');
      int port;
      try {
        port = Integer.parseInt(address.substring(colon + 1));
      } catch (NumberFormatException | IndexOutOfBoundsException e) {
        throw new RpcException(Status.EINVAL, "not a host:port address: '" + address + "'");
      }
      if (colon <= 0 || port <= 0 || port > 65535) {
        throw new RpcException(Status.EINVAL, "not a host:port address: '" + address + "'");
      }
      String host = address.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1); // [::1]:7000
      }
      client = new RpcClient(host, port, maxFrameBytes);
      clients.put(address, client);
      LOG.debug("new data connection to {}", address);
    }
    return client;
  }
}
