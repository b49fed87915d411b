package io.shoalfs.rpc;

import io.shoalfs.proto.Status;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link RpcClient} per server address ({@code host:port}), made on first use and reused:
 * each keeps one multiplexed connection and reconnects by itself after losing it. How servers
 * reach each other: a data node's chain and healer calls, and a data node's metadata calls
 * forwarded to the metadata servers. Thread-safe.
 */
public final class ClientPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClientPool.class);

  private final String purpose;
  private final int maxFrameBytes;
  private final Map<String, RpcClient> clients = new HashMap<>(); // guarded by this
  private boolean closed; // guarded by this

  /**
   * @param purpose what the connections are for, in log lines and errors
   * @param maxFrameBytes the frame limit of every connection (match the servers')
   */
  public ClientPool(String purpose, int maxFrameBytes) {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("frame limit must be positive: " + maxFrameBytes);
    }
    this.purpose = purpose;
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * The connection to {@code address}; throws EINVAL for an address that is not
   * {@code host:port}, UNAVAILABLE once the pool is closed.
   */
  public synchronized RpcClient clientFor(String address) throws RpcException {
    if (closed) {
      throw new RpcException(Status.UNAVAILABLE, purpose + " connections are closed");
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
      LOG.debug("new {} connection to {}", purpose, address);
    }
    return client;
  }

  /** Closes every connection; later calls fail with UNAVAILABLE. */
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
}
