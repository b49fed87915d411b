package io.shoalfs.s3;

import io.netty.handler.codec.http.HttpHeaders;
import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.Attr;
import io.shoalfs.rpc.RpcException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What S3 keeps with an object besides its bytes, kept as xattrs of its file so that a mount
 * sees them too ({@code getfattr -d}):
 *
 * <pre>
 *   user.s3.etag           "ETAG MTIME_NS SIZE": the ETag, and the file it was computed for
 *   user.s3.content-type   the Content-Type given at PUT
 *   user.s3.meta.NAME      x-amz-meta-NAME (names in lower case, as S3 returns them)
 * </pre>
 *
 * A stored ETag counts only while the file's mtime and size are those it was stored with: a
 * file rewritten on a mount is another object. A file with no valid stored ETag (written on a
 * mount) gets one from what identifies its content without reading it: the hex MD5 of
 * "inode:mtime_ns:size". It is stable while the file is unchanged and changes with it, which
 * is what conditional requests and caches need, but it is not the MD5 of the bytes.
 */
record ObjectMetadata(String contentType, Map<String, String> user) {
  static final String PREFIX = "user.s3.";
  static final String ETAG = PREFIX + "etag";
  static final String CONTENT_TYPE = PREFIX + "content-type";
  static final String META = PREFIX + "meta.";
  static final String DEFAULT_CONTENT_TYPE = "binary/octet-stream";
  /** S3 refuses user metadata larger than this (names and values together). */
  static final int MAX_USER_BYTES = 2048;

  /** No Content-Type and no user metadata (a part of a multipart upload). */
  static final ObjectMetadata NONE = new ObjectMetadata(null, Map.of());

  /** The Content-Type and x-amz-meta-* headers of a request. */
  static ObjectMetadata fromHeaders(HttpHeaders headers) throws S3Exception {
    Map<String, String> user = new TreeMap<>();
    int bytes = 0;
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (name.startsWith("x-amz-meta-") && name.length() > "x-amz-meta-".length()) {
        String n = name.substring("x-amz-meta-".length());
        user.merge(n, h.getValue(), (a, b) -> a + "," + b);
        bytes += n.length() + h.getValue().getBytes(StandardCharsets.UTF_8).length;
      }
    }
    if (bytes > MAX_USER_BYTES) {
      throw new S3Exception("MetadataTooLarge", 400, "Your metadata headers exceed the maximum"
          + " allowed metadata size (" + MAX_USER_BYTES + " bytes)");
    }
    String type = headers.get("Content-Type");
    return new ObjectMetadata(type, user);
  }

  /** Stores this metadata and {@code etag} on a file whose content is as {@code attr} says. */
  void store(ClientCore core, Attr attr, String etag) throws RpcException {
    setAll(core, attr.getInode(), xattrs(etag, attr.getMtimeNs(), attr.getSize()));
  }

  /**
   * The xattrs that store this metadata and {@code etag} on a file that will have modification
   * time {@code mtimeNs} and {@code size} bytes, ETag first.
   */
  Map<String, byte[]> xattrs(String etag, long mtimeNs, long size) {
    Map<String, byte[]> xattrs = new LinkedHashMap<>();
    xattrs.put(ETAG, (etag + " " + mtimeNs + " " + size).getBytes(StandardCharsets.UTF_8));
    xattrs.putAll(xattrsWithoutEtag());
    return xattrs;
  }

  /** Stores the Content-Type and user metadata only (on an upload, before it has bytes). */
  void storeWithoutEtag(ClientCore core, long inode) throws RpcException {
    setAll(core, inode, xattrsWithoutEtag());
  }

  /** The Content-Type (when given) and the user metadata, as xattrs. */
  private Map<String, byte[]> xattrsWithoutEtag() {
    Map<String, byte[]> xattrs = new LinkedHashMap<>();
    if (contentType != null && !contentType.isEmpty()) {
      xattrs.put(CONTENT_TYPE, contentType.getBytes(StandardCharsets.UTF_8));
    }
    for (Map.Entry<String, String> m : user.entrySet()) {
      xattrs.put(META + m.getKey(), m.getValue().getBytes(StandardCharsets.UTF_8));
    }
    return xattrs;
  }

  private static void setAll(ClientCore core, long inode, Map<String, byte[]> xattrs)
      throws RpcException {
    for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
      core.setXattr(inode, x.getKey(), x.getValue());
    }
  }

  /** An object's stored metadata and ETag (see above for files written on a mount). */
  static Stored load(ClientCore core, Attr attr) throws RpcException {
    String etag = null;
    String type = null;
    Map<String, String> user = new TreeMap<>();
    for (String name : core.listXattrs(attr.getInode())) {
      if (!name.startsWith(PREFIX)) {
        continue;
      }
      Optional<byte[]> value = core.getXattr(attr.getInode(), name);
      if (value.isEmpty()) {
        continue;
      }
      String v = new String(value.get(), StandardCharsets.UTF_8);
      if (name.equals(ETAG)) {
        etag = validEtag(v, attr);
      } else if (name.equals(CONTENT_TYPE)) {
        type = v;
      } else if (name.startsWith(META)) {
        user.put(name.substring(META.length()), v);
      }
    }
    return new Stored(new ObjectMetadata(type, user), etag != null ? etag : derivedEtag(attr));
  }

  /** An object's metadata with its ETag (without quotes). */
  record Stored(ObjectMetadata metadata, String etag) {
    String contentType() {
      String t = metadata.contentType();
      return t == null || t.isEmpty() ? DEFAULT_CONTENT_TYPE : t;
    }
  }

  /** The ETag in a stored value, if it was stored for the file as it is now. */
  static String validEtag(String stored, Attr attr) {
    String[] p = stored.split(" ");
    if (p.length != 3) {
      return null;
    }
    return p[1].equals(Long.toString(attr.getMtimeNs())) && p[2].equals(Long.toString(attr.getSize()))
        ? p[0] : null;
  }

  static String derivedEtag(Attr attr) {
    return md5Hex((attr.getInode() + ":" + attr.getMtimeNs() + ":" + attr.getSize())
        .getBytes(StandardCharsets.UTF_8));
  }

  static String md5Hex(byte[] bytes) {
    return HexFormat.of().formatHex(md5().digest(bytes));
  }

  static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no MD5", e);
    }
  }
}
