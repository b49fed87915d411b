package io.shoalfs.s3;

import com.google.protobuf.ByteString;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.Attr;
import io.shoalfs.rpc.RpcException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.w3c.dom.Element;

/**
 * PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and CopyObject. A PUT or COPY
 * writes into a staged file and renames it over the key once its bytes are durable and its
 * metadata stored, so a reader sees the old object or the new one, never a part.
 */
final class ObjectHandler {
  static final String EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";
  /** GET parameters that set an answer header (presigned URLs use them). */
  private static final Map<String, String> RESPONSE_OVERRIDES = Map.of(
      "response-content-type", "Content-Type",
      "response-content-language", "Content-Language",
      "response-expires", "Expires",
      "response-cache-control", "Cache-Control",
      "response-content-disposition", "Content-Disposition",
      "response-content-encoding", "Content-Encoding");

  private final ObjectStore store;
  private final ClientCore core;

  ObjectHandler(ObjectStore store) {
    this.store = store;
    this.core = store.core();
  }

  void put(Exchange ex, InputStream payload) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    long bucket = store.bucket(r.bucket());
    ObjectKeys.checkKey(r.key());
    ObjectMetadata metadata = ObjectMetadata.fromHeaders(r.headers());
    if (ObjectKeys.isDirectoryKey(r.key())) {
      if (payload.read() >= 0) {
        throw S3Errors.invalidArgument("A key ending in '/' is a directory: its object must be empty");
      }
      store.makeDirectoryKey(bucket, r.key());
      answerEtag(ex, EMPTY_MD5);
      return;
    }
    ObjectStore.Staged staged = store.stage();
    boolean published = false;
    try {
      ObjectWriter.Written written =
          new ObjectWriter(core, staged.inode()).append(payload).finish(metadata);
      checkContentMd5(r.header("Content-MD5"), written.md5()); // not published if it fails
      store.publish(staged, bucket, r.key());
      published = true;
      answerEtag(ex, written.md5());
    } finally {
      if (!published) {
        store.discard(staged);
      }
    }
  }

  private static void answerEtag(Exchange ex, String etag) throws IOException {
    HttpHeaders h = ex.headers();
    h.set(HttpHeaderNames.ETAG, quote(etag));
    ex.empty(200, h);
  }

  /** Content-MD5, when given, is the base64 of the body's MD5: BadDigest if it is not. */
  static void checkContentMd5(String header, String md5Hex) throws S3Exception {
    if (header == null) {
      return;
    }
    byte[] given;
    try {
      given = Base64.getDecoder().decode(header.trim());
    } catch (IllegalArgumentException e) {
      throw new S3Exception("InvalidDigest", 400, "The Content-MD5 you specified is not valid.");
    }
    if (!HexFormat.of().formatHex(given).equals(md5Hex)) {
      throw S3Errors.badDigest("The Content-MD5 you specified did not match what we received.");
    }
  }

  void get(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    Attr attr = store.object(r.bucket(), r.key());
    ObjectMetadata.Stored stored = ObjectMetadata.load(core, attr);
    HttpHeaders h = objectHeaders(ex, attr, stored);
    if (Conditionals.check(r, stored.etag(), S3Time.ofNanos(attr.getMtimeNs()))
        == Conditionals.Outcome.NOT_MODIFIED) {
      h.remove(HttpHeaderNames.CONTENT_LENGTH);
      ex.empty(304, h);
      return;
    }
    for (Map.Entry<String, String> o : RESPONSE_OVERRIDES.entrySet()) {
      String v = r.param(o.getKey());
      if (v != null) {
        h.set(o.getValue(), v);
      }
    }
    long size = attr.getSize();
    ByteRange range = ByteRange.parse(r.header("Range"), size);
    long first = range == null ? 0 : range.first();
    long length = range == null ? size : range.length();
    int status = 200;
    if (range != null) {
      status = 206;
      h.set(HttpHeaderNames.CONTENT_RANGE, range.contentRange(size));
    }
    h.set(HttpHeaderNames.CONTENT_LENGTH, length);
    if (r.method().equals("HEAD")) {
      ex.empty(status, h);
      return;
    }
    // Close-to-open: the file may have been rewritten elsewhere since this gateway read it.
    core.forgetLocations(attr.getInode());
    RangeReader reader = new RangeReader(core, attr.getInode(), first, length);
    ByteString piece = reader.next();
    ex.start(status, h, length);
    for (; piece != null; piece = reader.next()) {
      ex.send(Unpooled.wrappedBuffer(piece.asReadOnlyByteBuffer()));
    }
    ex.end();
  }

  /** The headers of GET and HEAD: ETag, Last-Modified, Content-Type, user metadata. */
  private static HttpHeaders objectHeaders(Exchange ex, Attr attr, ObjectMetadata.Stored stored) {
    HttpHeaders h = ex.headers();
    h.set(HttpHeaderNames.ETAG, quote(stored.etag()));
    h.set(HttpHeaderNames.LAST_MODIFIED, S3Time.http(S3Time.ofNanos(attr.getMtimeNs())));
    h.set(HttpHeaderNames.CONTENT_TYPE, stored.contentType());
    h.set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
    h.set(HttpHeaderNames.CONTENT_LENGTH, attr.getSize());
    stored.metadata().user().forEach((name, value) -> h.set("x-amz-meta-" + name, value));
    return h;
  }

  void delete(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    store.delete(store.bucket(r.bucket()), r.key());
    ex.empty(204, ex.headers());
  }

  /** What became of one key of a DeleteObjects: deleted (no error) or not. */
  private record DeleteOutcome(String key, S3Exception error) {}

  /** DeleteObjects: each key deleted on its own; the answer lists each outcome. */
  void deleteMany(Exchange ex, InputStream payload) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    long bucket = store.bucket(r.bucket());
    Element root = Xml.parse(Bodies.limited(payload, Xml.MAX_REQUEST_BYTES));
    boolean quiet = "true".equalsIgnoreCase(Xml.childText(root, "Quiet"));
    List<Element> objects = Xml.children(root, "Object");
    if (objects.size() > 1000) {
      throw S3Errors.malformedXml("at most 1000 keys may be deleted at once");
    }
    List<DeleteOutcome> outcomes = new ArrayList<>();
    for (Element o : objects) {
      String key = Xml.childText(o, "Key");
      if (key == null) {
        throw S3Errors.malformedXml("an Object without a Key");
      }
      try {
        store.delete(bucket, key);
        outcomes.add(new DeleteOutcome(key, null));
      } catch (S3Exception e) {
        outcomes.add(new DeleteOutcome(key, e));
      } catch (RpcException e) {
        outcomes.add(new DeleteOutcome(key, S3Errors.of(e, key)));
      }
    }
    ex.xml(200, Xml.document("DeleteResult", x -> {
      for (DeleteOutcome o : outcomes) {
        if (o.error() == null && !quiet) {
          x.element("Deleted", d -> d.element("Key", o.key()));
        } else if (o.error() != null) {
          x.element("Error", d -> d.element("Key", o.key())
              .element("Code", o.error().code())
              .element("Message", o.error().getMessage()));
        }
      }
    }));
  }

  /** CopyObject: the source's bytes streamed into a staged file under the new key. */
  void copy(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    long bucket = store.bucket(r.bucket());
    ObjectKeys.checkKey(r.key());
    Source source = source(r.header("x-amz-copy-source"));
    Attr attr = store.object(source.bucket(), source.key());
    ObjectMetadata.Stored stored = ObjectMetadata.load(core, attr);
    ObjectMetadata metadata = "REPLACE".equalsIgnoreCase(r.header("x-amz-metadata-directive"))
        ? ObjectMetadata.fromHeaders(r.headers()) : stored.metadata();
    ObjectStore.Staged staged = store.stage();
    boolean published = false;
    try {
      ObjectWriter writer = new ObjectWriter(core, staged.inode());
      core.forgetLocations(attr.getInode());
      RangeReader reader = new RangeReader(core, attr.getInode(), 0, attr.getSize());
      for (ByteString piece = reader.next(); piece != null; piece = reader.next()) {
        writer.append(piece);
      }
      ObjectWriter.Written written = writer.finish(metadata);
      store.publish(staged, bucket, r.key());
      published = true;
      ex.xml(200, Xml.document("CopyObjectResult", x -> x
          .element("LastModified", S3Time.iso(S3Time.ofNanos(written.attr().getMtimeNs())))
          .element("ETag", quote(written.md5()))));
    } finally {
      if (!published) {
        store.discard(staged);
      }
    }
  }

  /** A copy source: {@code bucket/key} or {@code /bucket/key}, URL-encoded. */
  record Source(String bucket, String key) {}

  static Source source(String header) throws S3Exception {
    if (header == null || header.isEmpty()) {
      throw S3Errors.invalidArgument("x-amz-copy-source is missing");
    }
    String h = header.startsWith("/") ? header.substring(1) : header;
    int q = h.indexOf('?');
    if (q >= 0) {
      h = h.substring(0, q); // versionId: there are no versions here
    }
    String decoded = QueryStringDecoder.decodeComponent(h.replace("+", "%2B"));
    int slash = decoded.indexOf('/');
    if (slash <= 0 || slash == decoded.length() - 1) {
      throw S3Errors.invalidArgument("x-amz-copy-source must be bucket/key: " + header);
    }
    return new Source(decoded.substring(0, slash), decoded.substring(slash + 1));
  }

  static String quote(String etag) {
    return "\"" + etag + "\"";
  }
}
