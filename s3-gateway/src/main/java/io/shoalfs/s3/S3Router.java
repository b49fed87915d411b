package io.shoalfs.s3;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpRequest;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every request's way through the gateway: its signature checked first (a refused request
 * touches nothing), then the operation its method, path and query name, then any failure as
 * S3's error XML. The one place where ShoalFS failures become S3 errors.
 */
final class S3Router {
  private static final Logger LOG = LoggerFactory.getLogger(S3Router.class);

  private final SigV4Verifier verifier;
  private final BucketHandler buckets;
  private final ObjectHandler objects;
  private final MultipartUploads multipart;

  S3Router(SigV4Verifier verifier, BucketHandler buckets,
      ObjectHandler objects, MultipartUploads multipart) {
    this.verifier = verifier;
    this.buckets = buckets;
    this.objects = objects;
    this.multipart = multipart;
  }

  /** Handles one request; false when the connection must not serve another. */
  boolean handle(Channel channel, HttpRequest http, RequestBody body) {
    String requestId = String.format("%016X", ThreadLocalRandom.current().nextLong());
    S3Request request = S3Request.of(http.method().name(), http.uri(), http.headers());
    Exchange ex = new Exchange(channel, request, body, requestId);
    try {
      SigV4Verifier.Signed signed = verifier.verify(request.method(), request.path(),
          request.query(), request.headers(), Instant.now());
      dispatch(ex, Payloads.open(body, signed, request.headers()));
      return true;
    } catch (S3Exception e) {
      return fail(ex, e);
    } catch (PayloadException e) {
      return fail(ex, e.error());
    } catch (RpcException e) {
      boolean bucketGone = e.status() == Status.ENOENT && request.key().isEmpty();
      return fail(ex, bucketGone ? S3Errors.noSuchBucket(request.bucket())
          : S3Errors.of(e, request.key()));
    } catch (IOException e) {
      LOG.debug("{} {}: connection lost: {}", request.method(), request.path(), e.toString());
      return false;
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", request.method(), request.path(), e);
      return fail(ex, S3Errors.internal(e.toString()));
    }
  }

  private void dispatch(Exchange ex, InputStream payload)
      throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    String method = r.method();
    if (r.bucket().isEmpty()) {
      if (method.equals("GET")) {
        buckets.listBuckets(ex);
        return;
      }
      throw S3Errors.methodNotAllowed(method);
    }
    if (r.key().isEmpty()) {
      dispatchBucket(ex, payload, method);
    } else {
      dispatchObject(ex, payload, method);
    }
  }

  private void dispatchBucket(Exchange ex, InputStream payload, String method)
      throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    switch (method) {
      case "PUT" -> {
        refuseSubresources(r, "acl", "policy", "versioning", "tagging", "cors", "lifecycle",
            "website", "encryption", "replication", "notification", "logging");
        buckets.create(ex);
      }
      case "HEAD" -> buckets.head(ex);
      case "DELETE" -> {
        refuseSubresources(r, "policy", "tagging", "cors", "lifecycle", "website", "encryption");
        buckets.delete(ex);
        multipart.removeAll(r.bucket());
      }
      case "POST" -> {
        if (!r.has("delete")) {
          throw S3Errors.methodNotAllowed(method);
        }
        objects.deleteMany(ex, payload);
      }
      case "GET" -> {
        if (r.has("uploads")) {
          multipart.listUploads(ex);
        } else if (r.has("location")) {
          buckets.location(ex);
        } else {
          refuseSubresources(r, "acl", "policy", "versioning", "versions", "tagging", "cors",
              "lifecycle", "website", "encryption", "replication", "notification", "logging",
              "object-lock");
          buckets.list(ex);
        }
      }
      default -> throw S3Errors.methodNotAllowed(method);
    }
  }

  private void dispatchObject(Exchange ex, InputStream payload, String method)
      throws S3Exception, RpcException, IOException {
    S3Request r = ex.request();
    refuseSubresources(r, "acl", "tagging", "retention", "legal-hold", "torrent", "restore",
        "attributes", "select");
    switch (method) {
      case "PUT" -> {
        if (r.has("uploadId")) {
          multipart.uploadPart(ex, payload);
        } else if (r.header("x-amz-copy-source") != null) {
          objects.copy(ex);
        } else {
          objects.put(ex, payload);
        }
      }
      case "GET" -> {
        if (r.has("uploadId")) {
          multipart.listParts(ex);
        } else {
          objects.get(ex);
        }
      }
      case "HEAD" -> objects.get(ex);
      case "DELETE" -> {
        if (r.has("uploadId")) {
          multipart.abort(ex);
        } else {
          objects.delete(ex);
        }
      }
      case "POST" -> {
        if (r.has("uploads")) {
          multipart.create(ex);
        } else if (r.has("uploadId")) {
          multipart.complete(ex, payload);
        } else {
          throw S3Errors.methodNotAllowed(method);
        }
      }
      default -> throw S3Errors.methodNotAllowed(method);
    }
  }

  /** S3 features this gateway does not have are NotImplemented, not a wrong answer. */
  private static void refuseSubresources(S3Request r, String... names) throws S3Exception {
    for (String name : names) {
      if (r.has(name)) {
        throw S3Errors.notImplemented("The ?" + name + " subresource");
      }
    }
  }

  /** Answers with the error; false (close the connection) if the answer cannot be written. */
  private boolean fail(Exchange ex, S3Exception e) {
    if (ex.responded()) {
      // Part of the answer went out already (a GET that failed midway): all the client can be
      // told is that the connection ends early.
      LOG.warn("{} {} failed after its answer began: {}", ex.request().method(),
          ex.request().path(), e.getMessage());
      return false;
    }
    LOG.debug("{} {}: {} {}", ex.request().method(), ex.request().path(), e.code(),
        e.getMessage());
    try {
      ex.xml(e.status(), S3Errors.xml(e, ex.request().resource(), ex.requestId()));
      return true;
    } catch (IOException written) {
      return false;
    }
  }
}
