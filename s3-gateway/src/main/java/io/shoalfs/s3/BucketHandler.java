package io.shoalfs.s3;

import io.netty.handler.codec.http.HttpHeaders;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.rpc.RpcException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and the two
 * listings of a bucket's objects (ListObjects with markers, ListObjectsV2 with continuation
 * tokens), both as {@link ObjectListing} pages.
 */
final class BucketHandler {
  static final int MAX_KEYS = 1000;
  /** The owner every bucket and object is listed with: the cluster has one. */
  static final String OWNER_ID = "shoalfs";

  /** How many ETags of a listing are asked for at once. */
  static final int ETAG_FETCHES = 16;

  private final ObjectStore store;
  private final Executor etagFetches;

  /** {@code etagFetches}: where the ETags of listed objects are fetched (see {@link #etags}). */
  BucketHandler(ObjectStore store, Executor etagFetches) {
    this.store = store;
    this.etagFetches = etagFetches;
  }

  void listBuckets(Exchange ex) throws RpcException, IOException {
    List<DirEntry> buckets = store.buckets();
    ex.xml(200, Xml.document("ListAllMyBucketsResult", x -> x
        .element("Owner", o -> o.element("ID", OWNER_ID).element("DisplayName", OWNER_ID))
        .element("Buckets", b -> {
          for (DirEntry e : buckets) {
            b.element("Bucket", one -> one.element("Name", e.getName())
                .element("CreationDate", S3Time.iso(S3Time.ofNanos(e.getAttr().getCtimeNs()))));
          }
        })));
  }

  void create(Exchange ex) throws S3Exception, RpcException, IOException {
    store.createBucket(ex.request().bucket());
    HttpHeaders h = ex.headers();
    h.set("Location", "/" + ex.request().bucket());
    ex.empty(200, h);
  }

  void head(Exchange ex) throws S3Exception, RpcException, IOException {
    store.bucket(ex.request().bucket());
    ex.empty(200, ex.headers());
  }

  void delete(Exchange ex) throws S3Exception, RpcException, IOException {
    store.deleteBucket(ex.request().bucket());
    ex.empty(204, ex.headers());
  }

  void location(Exchange ex) throws S3Exception, RpcException, IOException {
    store.bucket(ex.request().bucket());
    ex.xml(200, Xml.document("LocationConstraint", x -> { }));
  }

  /** ListObjectsV2 ({@code list-type=2}) or ListObjects. */
  void list(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    long bucket = store.bucket(r.bucket());
    boolean v2 = "2".equals(r.param("list-type"));
    String prefix = orEmpty(r.param("prefix"));
    String delimiter = emptyAsNull(r.param("delimiter"));
    int maxKeys = maxKeys(r.param("max-keys"));
    boolean urlEncoded = "url".equals(r.param("encoding-type"));
    String token = v2 ? r.param("continuation-token") : null;
    String after = v2 ? (token != null ? decodeToken(token) : emptyAsNull(r.param("start-after")))
        : emptyAsNull(r.param("marker"));
    ObjectListing.Page page = ObjectListing.list(store, bucket, prefix, delimiter, after, maxKeys);
    Map<String, String> etags = etags(page.objects());
    Encoder enc = s -> urlEncoded ? SigV4.uriEncode(s, false) : s;
    ex.xml(200, Xml.document("ListBucketResult", x -> {
      x.element("Name", r.bucket()).element("Prefix", enc.apply(prefix));
      if (v2) {
        if (token != null) {
          x.element("ContinuationToken", token);
        }
        if (r.param("start-after") != null) {
          x.element("StartAfter", enc.apply(r.param("start-after")));
        }
        x.element("KeyCount", page.objects().size() + page.commonPrefixes().size());
      } else {
        x.element("Marker", enc.apply(orEmpty(r.param("marker"))));
      }
      x.element("MaxKeys", maxKeys);
      if (delimiter != null) {
        x.element("Delimiter", enc.apply(delimiter));
      }
      if (urlEncoded) {
        x.element("EncodingType", "url");
      }
      x.element("IsTruncated", page.truncated());
      if (page.truncated()) {
        if (v2) {
          x.element("NextContinuationToken", encodeToken(page.nextMarker()));
        } else {
          x.element("NextMarker", enc.apply(page.nextMarker()));
        }
      }
      for (ObjectListing.Listed o : page.objects()) {
        x.element("Contents", c -> {
          c.element("Key", enc.apply(o.key()))
              .element("LastModified", S3Time.iso(S3Time.ofNanos(o.entry().getAttr().getMtimeNs())))
              .element("ETag", ObjectHandler.quote(etags.get(o.key())))
              .element("Size", o.entry().getType() == FileType.DIRECTORY ? 0 : o.entry().getAttr().getSize())
              .element("StorageClass", "STANDARD");
          if (!v2 || "true".equals(r.param("fetch-owner"))) {
            c.element("Owner", w -> w.element("ID", OWNER_ID).element("DisplayName", OWNER_ID));
          }
        });
      }
      for (String p : page.commonPrefixes()) {
        x.element("CommonPrefixes", c -> c.element("Prefix", enc.apply(p)));
      }
    }));
  }

  /**
   * The ETags of a page's objects, as GET shows them: each is an xattr of its own file, so
   * they are asked for {@link #ETAG_FETCHES} at a time rather than one after the other.
   */
  private Map<String, String> etags(List<ObjectListing.Listed> objects) throws RpcException {
    Map<String, CompletableFuture<String>> pending = new HashMap<>();
    for (ObjectListing.Listed o : objects) {
      pending.put(o.key(), CompletableFuture.supplyAsync(() -> {
        try {
          return store.etag(o.entry().getAttr());
        } catch (RpcException e) {
          throw new CompletionException(e);
        }
      }, etagFetches));
    }
    Map<String, String> etags = new HashMap<>();
    for (Map.Entry<String, CompletableFuture<String>> e : pending.entrySet()) {
      try {
        etags.put(e.getKey(), e.getValue().join());
      } catch (CompletionException failed) {
        if (failed.getCause() instanceof RpcException rpc) {
          throw rpc;
        }
        throw failed;
      }
    }
    return etags;
  }

  @FunctionalInterface
  private interface Encoder {
    String apply(String s);
  }

  static int maxKeys(String param) throws S3Exception {
    if (param == null) {
      return MAX_KEYS;
    }
    try {
      int n = Integer.parseInt(param.trim());
      if (n < 0) {
        throw S3Errors.invalidArgument("max-keys must not be negative");
      }
      return Math.min(n, MAX_KEYS);
    } catch (NumberFormatException e) {
      throw S3Errors.invalidArgument("max-keys must be a number: " + param);
    }
  }

  /** A continuation token: the last key or prefix of the page, base64url, opaque to clients. */
  static String encodeToken(String last) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(last.getBytes(StandardCharsets.UTF_8));
  }

  static String decodeToken(String token) throws S3Exception {
    try {
      return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw S3Errors.invalidArgument("The continuation token provided is incorrect");
    }
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private static String emptyAsNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
