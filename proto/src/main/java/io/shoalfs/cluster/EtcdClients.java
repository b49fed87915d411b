package io.shoalfs.cluster;

import io.etcd.jetcd.Client;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place that builds a jetcd {@link Client}, so that servers, clients and
 * {@code shoal status} all talk to etcd with the same timeouts.
 */
public final class EtcdClients {
  /** How long to wait for a TCP connection to an endpoint. */
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
  /**
   * gRPC keepalive ping interval. etcd's server refuses pings more frequent than
   * {@code --grpc-keepalive-min-time} (5s by default) with GOAWAY "too_many_pings", so stay above.
   */
  public static final Duration KEEPALIVE_TIME = Duration.ofSeconds(10);
  /** A ping unanswered this long means the connection is dead. */
  public static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(3);
  /**
   * How long jetcd retries one call internally. Callers in this package bound every call with
   * their own timeout as well; this only stops orphaned retries from running on forever.
   */
  public static final Duration RETRY_MAX_DURATION = Duration.ofSeconds(10);

  private EtcdClients() {}

  /**
   * A client for a comma-separated endpoint list, e.g.
   * {@code http://127.0.0.1:2379,http://127.0.0.1:22379}. A bare {@code host:port} means http.
   * The caller owns the client and closes it.
   */
  public static Client connect(String endpoints) {
    List<URI> uris = parseEndpoints(endpoints);
    return Client.builder()
        .endpoints(uris.toArray(URI[]::new))
        .connectTimeout(CONNECT_TIMEOUT)
        .keepaliveTime(KEEPALIVE_TIME)
        .keepaliveTimeout(KEEPALIVE_TIMEOUT)
        // etcd does not permit pings without an active stream; they would earn a GOAWAY.
        .keepaliveWithoutCalls(false)
        .retryMaxDuration(RETRY_MAX_DURATION)
        .build();
  }

  /** Parses and checks an endpoint list; throws IllegalArgumentException naming the bad part. */
  public static List<URI> parseEndpoints(String endpoints) {
    if (endpoints == null || endpoints.isBlank()) {
      throw new IllegalArgumentException("no etcd endpoints given");
    }
    List<URI> uris = new ArrayList<>();
    for (String part : endpoints.split(",")) {
      String s = part.trim();
      if (s.isEmpty()) {
        continue;
      }
      uris.add(parseOne(s.contains("://") ? s : "http://" + s));
    }
    if (uris.isEmpty()) {
      throw new IllegalArgumentException("no etcd endpoints in \"" + endpoints + "\"");
    }
    return List.copyOf(uris);
  }

  private static URI parseOne(String s) {
    URI uri;
    try {
      uri = new URI(s);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("bad etcd endpoint \"" + s + "\": " + e.getMessage(), e);
    }
    if (!"http".equals(uri.getScheme())) {
      // TLS needs an SslContext we do not configure yet: fail loudly rather than connect in clear.
      throw new IllegalArgumentException(
          "etcd endpoint \"" + s + "\": only http:// is supported (TLS is not configured)");
    }
    if (uri.getHost() == null || uri.getPort() <= 0) {
      throw new IllegalArgumentException("etcd endpoint \"" + s + "\" needs a host and a port");
    }
    if (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
      throw new IllegalArgumentException("etcd endpoint \"" + s + "\" must not have a path");
    }
    return URI.create("http://" + uri.getHost() + ":" + uri.getPort());
  }
}
