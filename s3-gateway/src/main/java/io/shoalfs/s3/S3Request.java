package io.shoalfs.s3;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A request as the handlers see it: method, decoded path split into bucket and key
 * (path-style: {@code /bucket/key}), decoded query parameters and the headers.
 *
 * @param bucket "" for the service itself (ListBuckets)
 * @param key "" for the bucket itself
 */
record S3Request(String method, String path, Map<String, List<String>> query,
    HttpHeaders headers, String bucket, String key) {

  static S3Request of(String method, String uri, HttpHeaders headers) {
    QueryStringDecoder decoder = new QueryStringDecoder(uri, StandardCharsets.UTF_8);
    String path = decoder.path();
    String rest = path.startsWith("/") ? path.substring(1) : path;
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String key = slash < 0 ? "" : rest.substring(slash + 1);
    return new S3Request(method, path, decoder.parameters(), headers, bucket, key);
  }

  boolean has(String param) {
    return query.containsKey(param);
  }

  /** The first value of a query parameter, or null. */
  String param(String name) {
    List<String> v = query.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  String header(String name) {
    return headers.get(name);
  }

  /** The resource an error names: the path. */
  String resource() {
    return path;
  }
}
