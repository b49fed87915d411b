package io.shoalfs.s3;

import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.HttpHeaders;
import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Element;

/**
 * Multipart uploads. An upload is a directory {@code /.shoal-s3/uploads/BUCKET/ID/} holding its
 * key and metadata as xattrs and each part as a file named by its number (written under
 * staging and renamed in, so a part re-sent replaces the old one whole). Nothing of it is in
 * the bucket until CompleteMultipartUpload, which writes the parts one after the other into a
 * staged file and renames that over the key, as a PUT does.
 *
 * <p>Completion moves the chunks of each part that is whole chunks at a chunk boundary of the
 * object and copies the bytes of the others through the gateway ({@link PartAssembler}).
 */
final class MultipartUploads {
  static final int MAX_PARTS = 10_000;
  /** Every part but the last must be at least this large, as S3 requires. */
  static final long MIN_PART_SIZE = 5L << 20;
  static final String UPLOAD_KEY = ObjectMetadata.PREFIX + "upload-key";
  private static final Logger LOG = LoggerFactory.getLogger(MultipartUploads.class);
  private static final SecureRandom IDS = new SecureRandom();

  private final ObjectStore store;
  private final ClientCore core;

  MultipartUploads(ObjectStore store) {
    this.store = store;
    this.core = store.core();
  }

  /** CreateMultipartUpload. */
  void create(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    store.bucket(r.bucket());
    ObjectKeys.checkKey(r.key());
    if (ObjectKeys.isDirectoryKey(r.key())) {
      throw S3Errors.invalidArgument("A key ending in '/' is a directory, not an upload's target");
    }
    ObjectMetadata metadata = ObjectMetadata.fromHeaders(r.headers());
    byte[] id = new byte[16];
    IDS.nextBytes(id);
    String uploadId = HexFormat.of().formatHex(id);
    long bucketUploads = store.directory(store.uploadsDir(), r.bucket());
    Attr dir = core.makeDirectory(bucketUploads, uploadId);
    core.setXattr(dir.getInode(), UPLOAD_KEY, r.key().getBytes(StandardCharsets.UTF_8));
    metadata.storeWithoutEtag(core, dir.getInode());
    ex.xml(200, Xml.document("InitiateMultipartUploadResult", x -> x
        .element("Bucket", r.bucket()).element("Key", r.key()).element("UploadId", uploadId)));
  }

  /** UploadPart, or UploadPartCopy when the request names a copy source. */
  void uploadPart(Exchange ex, InputStream payload) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    long upload = upload(r);
    int part = partNumber(r.param("partNumber"));
    ObjectStore.Staged staged = store.stage();
    boolean placed = false;
    try {
      ObjectWriter writer = new ObjectWriter(core, staged.inode());
      String copySource = r.header("x-amz-copy-source");
      if (copySource == null) {
        writer.append(payload);
      } else {
        copyRange(writer, copySource, r.header("x-amz-copy-source-range"));
      }
      ObjectWriter.Written written = writer.finish(ObjectMetadata.NONE);
      if (copySource == null) {
        ObjectHandler.checkContentMd5(r.header("Content-MD5"), written.md5());
      }
      core.rename(store.stagingDir(), staged.name(), upload, partName(part));
      placed = true;
      if (copySource == null) {
        HttpHeaders h = ex.headers();
        h.set("ETag", ObjectHandler.quote(written.md5()));
        ex.empty(200, h);
      } else {
        ex.xml(200, Xml.document("CopyPartResult", x -> x
            .element("LastModified", S3Time.iso(S3Time.ofNanos(written.attr().getMtimeNs())))
            .element("ETag", ObjectHandler.quote(written.md5()))));
      }
    } finally {
      if (!placed) {
        store.discard(staged);
      }
    }
  }

  private void copyRange(ObjectWriter writer, String copySource, String rangeHeader)
      throws S3Exception, RpcException {
    ObjectHandler.Source source = ObjectHandler.source(copySource);
    Attr attr = store.object(source.bucket(), source.key());
    ByteRange range = rangeHeader == null ? null : ByteRange.parse(rangeHeader, attr.getSize());
    if (rangeHeader != null && range == null) {
      throw S3Errors.invalidArgument("x-amz-copy-source-range must be bytes=FIRST-LAST: "
          + rangeHeader);
    }
    long first = range == null ? 0 : range.first();
    long length = range == null ? attr.getSize() : range.length();
    core.forgetLocations(attr.getInode());
    RangeReader reader = new RangeReader(core, attr.getInode(), first, length);
    for (ByteString piece = reader.next(); piece != null; piece = reader.next()) {
      writer.append(piece);
    }
  }

  /** CompleteMultipartUpload: the listed parts, in order, become the object. */
  void complete(Exchange ex, InputStream payload) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    long bucket = store.bucket(r.bucket());
    long upload = upload(r);
    Element root = Xml.parse(Bodies.limited(payload, Xml.MAX_REQUEST_BYTES));
    List<Element> listed = Xml.children(root, "Part");
    if (listed.isEmpty()) {
      throw S3Errors.malformedXml("CompleteMultipartUpload lists no part");
    }
    List<Attr> parts = new ArrayList<>();
    MessageDigest etags = ObjectMetadata.md5();
    int previous = 0;
    for (int i = 0; i < listed.size(); i++) {
      int number = partNumber(Xml.childText(listed.get(i), "PartNumber"));
      if (number <= previous) {
        throw S3Errors.invalidPartOrder();
      }
      previous = number;
      Optional<DirEntry> part = store.lookup(upload, partName(number));
      String given = Conditionals.unquote(String.valueOf(Xml.childText(listed.get(i), "ETag")));
      if (part.isEmpty() || !store.etag(part.get().getAttr()).equals(given)) {
        throw S3Errors.invalidPart("One or more of the specified parts could not be found or"
            + " its ETag does not match: part " + number);
      }
      Attr attr = part.get().getAttr();
      if (i < listed.size() - 1 && attr.getSize() < MIN_PART_SIZE) {
        throw new S3Exception("EntityTooSmall", 400, "Your proposed upload is smaller than the"
            + " minimum allowed object size: part " + number + " has " + attr.getSize()
            + " bytes, and every part but the last needs " + MIN_PART_SIZE);
      }
      etags.update(HexFormat.of().parseHex(given));
      parts.add(attr);
    }
    String etag = HexFormat.of().formatHex(etags.digest()) + "-" + parts.size();
    ObjectMetadata metadata = ObjectMetadata.load(core, core.stat(uploadPath(r))).metadata();
    ObjectStore.Staged staged = store.stageWithoutChunks();
    boolean published = false;
    try {
      PartAssembler.Assembled assembled = new PartAssembler(core).assemble(staged.inode(), parts);
      metadata.store(core, assembled.attr(), etag);
      store.publish(staged, bucket, r.key());
      published = true;
      LOG.info("completed upload {} of {}/{}: {} parts, {} of them ({} chunks) moved, {} bytes"
          + " copied", r.param("uploadId"), r.bucket(), r.key(), parts.size(),
          assembled.movedParts(), assembled.movedChunks(), assembled.copiedBytes());
    } finally {
      if (!published) {
        store.discard(staged);
      }
    }
    removeUpload(r.bucket(), r.param("uploadId"), upload);
    ex.xml(200, Xml.document("CompleteMultipartUploadResult", x -> x
        .element("Location", "/" + r.bucket() + "/" + r.key())
        .element("Bucket", r.bucket()).element("Key", r.key())
        .element("ETag", ObjectHandler.quote(etag))));
  }

  /** AbortMultipartUpload. */
  void abort(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    store.bucket(r.bucket());
    removeUpload(r.bucket(), r.param("uploadId"), upload(r));
    ex.empty(204, ex.headers());
  }

  /** ListParts. */
  void listParts(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    long upload = upload(r);
    int marker = r.param("part-number-marker") == null ? 0 : partNumber0(r.param("part-number-marker"));
    int max = BucketHandler.maxKeys(r.param("max-parts"));
    List<DirEntry> parts = new ArrayList<>();
    boolean truncated = false;
    for (DirEntry e : entries(upload)) {
      int number = Integer.parseInt(e.getName());
      if (number <= marker) {
        continue;
      }
      if (parts.size() == max) {
        truncated = true;
        break;
      }
      parts.add(e);
    }
    List<String> etags = new ArrayList<>();
    for (DirEntry e : parts) {
      etags.add(store.etag(e.getAttr()));
    }
    boolean isTruncated = truncated;
    ex.xml(200, Xml.document("ListPartsResult", x -> {
      x.element("Bucket", r.bucket()).element("Key", r.key())
          .element("UploadId", r.param("uploadId"))
          .element("Initiator", o -> o.element("ID", BucketHandler.OWNER_ID)
              .element("DisplayName", BucketHandler.OWNER_ID))
          .element("Owner", o -> o.element("ID", BucketHandler.OWNER_ID)
              .element("DisplayName", BucketHandler.OWNER_ID))
          .element("StorageClass", "STANDARD")
          .element("PartNumberMarker", marker)
          .element("MaxParts", max)
          .element("IsTruncated", isTruncated);
      if (isTruncated) {
        x.element("NextPartNumberMarker", Integer.parseInt(parts.get(parts.size() - 1).getName()));
      }
      for (int i = 0; i < parts.size(); i++) {
        DirEntry e = parts.get(i);
        String etag = etags.get(i);
        x.element("Part", p -> p.element("PartNumber", Integer.parseInt(e.getName()))
            .element("LastModified", S3Time.iso(S3Time.ofNanos(e.getAttr().getMtimeNs())))
            .element("ETag", ObjectHandler.quote(etag))
            .element("Size", e.getAttr().getSize()));
      }
    }));
  }

  /** ListMultipartUploads: a bucket's uploads in progress, by key. */
  void listUploads(Exchange ex) throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    store.bucket(r.bucket());
    String prefix = r.param("prefix") == null ? "" : r.param("prefix");
    int max = BucketHandler.maxKeys(r.param("max-uploads"));
    record Upload(String key, String id, Attr attr) {}
    List<Upload> uploads = new ArrayList<>();
    Optional<DirEntry> bucketUploads = store.lookup(store.uploadsDir(), r.bucket());
    if (bucketUploads.isPresent()) {
      for (DirEntry e : entries(bucketUploads.get().getInode())) {
        Optional<byte[]> key = core.getXattr(e.getInode(), UPLOAD_KEY);
        if (key.isPresent()) {
          String k = new String(key.get(), StandardCharsets.UTF_8);
          if (k.startsWith(prefix)) {
            uploads.add(new Upload(k, e.getName(), e.getAttr()));
          }
        }
      }
    }
    uploads.sort(Comparator.comparing(Upload::key, Keys.ORDER)
        .thenComparing(u -> u.attr().getCtimeNs()));
    boolean truncated = uploads.size() > max;
    List<Upload> page = uploads.subList(0, Math.min(max, uploads.size()));
    ex.xml(200, Xml.document("ListMultipartUploadsResult", x -> {
      x.element("Bucket", r.bucket()).element("KeyMarker", "").element("UploadIdMarker", "")
          .element("Prefix", prefix).element("MaxUploads", max).element("IsTruncated", truncated);
      for (Upload u : page) {
        x.element("Upload", o -> o.element("Key", u.key()).element("UploadId", u.id())
            .element("Initiator", i -> i.element("ID", BucketHandler.OWNER_ID)
                .element("DisplayName", BucketHandler.OWNER_ID))
            .element("Owner", i -> i.element("ID", BucketHandler.OWNER_ID)
                .element("DisplayName", BucketHandler.OWNER_ID))
            .element("StorageClass", "STANDARD")
            .element("Initiated", S3Time.iso(S3Time.ofNanos(u.attr().getCtimeNs()))));
      }
    }));
  }

  /** Removes every upload of a bucket (the bucket is being deleted). */
  void removeAll(String bucket) throws RpcException {
    Optional<DirEntry> bucketUploads = store.lookup(store.uploadsDir(), bucket);
    if (bucketUploads.isEmpty()) {
      return;
    }
    for (DirEntry e : entries(bucketUploads.get().getInode())) {
      removeUpload(bucket, e.getName(), e.getInode());
    }
  }

  /** The directory of the request's upload; NoSuchUpload if it is not one of this key's. */
  private long upload(S3Request r) throws S3Exception, RpcException {
    String id = r.param("uploadId");
    if (id == null || !id.matches("[0-9a-f]{32}")) {
      throw S3Errors.noSuchUpload(String.valueOf(id));
    }
    Optional<DirEntry> bucketUploads = store.lookup(store.uploadsDir(), r.bucket());
    Optional<DirEntry> upload = bucketUploads.isEmpty() ? Optional.empty()
        : store.lookup(bucketUploads.get().getInode(), id);
    if (upload.isEmpty()) {
      throw S3Errors.noSuchUpload(id);
    }
    Optional<byte[]> key = core.getXattr(upload.get().getInode(), UPLOAD_KEY);
    if (key.isEmpty() || !new String(key.get(), StandardCharsets.UTF_8).equals(r.key())) {
      throw S3Errors.noSuchUpload(id);
    }
    return upload.get().getInode();
  }

  private static String uploadPath(S3Request r) {
    return "/" + ObjectStore.GATEWAY_DIR + "/uploads/" + r.bucket() + "/" + r.param("uploadId");
  }

  private void removeUpload(String bucket, String id, long upload) throws RpcException {
    for (DirEntry e : entries(upload)) {
      try {
        core.unlink(upload, e.getName());
      } catch (RpcException gone) {
        if (gone.status() != Status.ENOENT) {
          throw gone;
        }
      }
    }
    long bucketUploads = store.directory(store.uploadsDir(), bucket);
    try {
      core.rmdir(bucketUploads, id);
    } catch (RpcException e) {
      if (e.status() != Status.ENOENT) {
        throw e;
      }
    }
  }

  /** All regular entries of a directory, in name order. */
  private List<DirEntry> entries(long dir) throws RpcException {
    List<DirEntry> all = new ArrayList<>();
    String after = "";
    while (true) {
      ClientCore.DirPage page = store.list(dir, after, KeyWalk.PAGE);
      for (DirEntry e : page.entries()) {
        if (e.getType() == FileType.REGULAR || e.getType() == FileType.DIRECTORY) {
          all.add(e);
        }
      }
      if (!page.hasMore() || page.entries().isEmpty()) {
        return all;
      }
      after = page.entries().get(page.entries().size() - 1).getName();
    }
  }

  static String partName(int number) {
    return String.format("%05d", number);
  }

  static int partNumber(String value) throws S3Exception {
    int n = partNumber0(value);
    if (n < 1 || n > MAX_PARTS) {
      throw S3Errors.invalidArgument("Part number must be an integer between 1 and " + MAX_PARTS);
    }
    return n;
  }

  private static int partNumber0(String value) throws S3Exception {
    try {
      return Integer.parseInt(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw S3Errors.invalidArgument("Part number must be an integer between 1 and " + MAX_PARTS);
    }
  }
}
