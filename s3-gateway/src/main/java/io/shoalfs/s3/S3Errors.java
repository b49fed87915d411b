package io.shoalfs.s3;

import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;

/**
 * S3's error codes with their HTTP statuses, and the one translator from a ShoalFS status
 * (a POSIX outcome or a transport failure) to them.
 */
final class S3Errors {
  private S3Errors() {}

  static S3Exception noSuchBucket(String bucket) {
    return new S3Exception("NoSuchBucket", 404, "The specified bucket does not exist: " + bucket);
  }

  static S3Exception noSuchKey(String key) {
    return new S3Exception("NoSuchKey", 404, "The specified key does not exist: " + key);
  }

  static S3Exception noSuchUpload(String uploadId) {
    return new S3Exception("NoSuchUpload", 404,
        "The specified multipart upload does not exist: " + uploadId);
  }

  static S3Exception bucketNotEmpty(String bucket) {
    return new S3Exception("BucketNotEmpty", 409, "The bucket you tried to delete is not empty: "
        + bucket);
  }

  static S3Exception bucketAlreadyOwnedByYou(String bucket) {
    return new S3Exception("BucketAlreadyOwnedByYou", 409,
        "Your previous request to create the named bucket succeeded and you already own it: "
        + bucket);
  }

  static S3Exception invalidBucketName(String bucket) {
    return new S3Exception("InvalidBucketName", 400, "The specified bucket is not valid: "
        + bucket);
  }

  static S3Exception invalidArgument(String message) {
    return new S3Exception("InvalidArgument", 400, message);
  }

  static S3Exception invalidRange(long size) {
    return new S3Exception("InvalidRange", 416,
        "The requested range is not satisfiable (object size " + size + ")");
  }

  static S3Exception malformedXml(String message) {
    return new S3Exception("MalformedXML", 400,
        "The XML you provided was not well-formed or did not validate: " + message);
  }

  static S3Exception invalidPart(String message) {
    return new S3Exception("InvalidPart", 400, message);
  }

  static S3Exception invalidPartOrder() {
    return new S3Exception("InvalidPartOrder", 400,
        "The list of parts was not in ascending order by part number.");
  }

  static S3Exception badDigest(String message) {
    return new S3Exception("BadDigest", 400, message);
  }

  static S3Exception contentSha256Mismatch() {
    return new S3Exception("XAmzContentSHA256Mismatch", 400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  static S3Exception preconditionFailed() {
    return new S3Exception("PreconditionFailed", 412,
        "At least one of the preconditions you specified did not hold.");
  }

  static S3Exception notImplemented(String what) {
    return new S3Exception("NotImplemented", 501, what + " is not implemented by this gateway");
  }

  static S3Exception methodNotAllowed(String method) {
    return new S3Exception("MethodNotAllowed", 405,
        "The specified method is not allowed against this resource: " + method);
  }

  static S3Exception accessDenied(String message) {
    return new S3Exception("AccessDenied", 403, message);
  }

  static S3Exception signatureDoesNotMatch() {
    return new S3Exception("SignatureDoesNotMatch", 403, "The request signature we calculated"
        + " does not match the signature you provided. Check your key and signing method.");
  }

  static S3Exception invalidAccessKeyId(String id) {
    return new S3Exception("InvalidAccessKeyId", 403,
        "The AWS Access Key Id you provided does not exist in our records: " + id);
  }

  static S3Exception authorizationHeaderMalformed(String message) {
    return new S3Exception("AuthorizationHeaderMalformed", 400, message);
  }

  static S3Exception requestTimeTooSkewed() {
    return new S3Exception("RequestTimeTooSkewed", 403,
        "The difference between the request time and the server's time is too large.");
  }

  static S3Exception incompleteBody(String message) {
    return new S3Exception("IncompleteBody", 400, message);
  }

  static S3Exception internal(String message) {
    return new S3Exception("InternalError", 500, message);
  }

  /**
   * A ShoalFS failure as S3 reports it. {@code key} names the object for ENOENT (NoSuchKey);
   * the caller maps ENOENT of a bucket itself (NoSuchBucket) before it gets here.
   */
  static S3Exception of(RpcException e, String key) {
    Status status = e.status();
    switch (status) {
      case ENOENT:
        return noSuchKey(key);
      case ENOTDIR:
      case EISDIR:
      case EEXIST:
        // A key that would need a file where a directory is, or the other way round.
        return new S3Exception("InvalidRequest", 409,
            "The key conflicts with another object's key prefix: " + key + " (" + status + ")");
      case ENAMETOOLONG:
        return new S3Exception("KeyTooLongError", 400, "Your key is too long: " + key);
      case EACCES:
      case EPERM:
        return accessDenied("Access Denied");
      case ENOSPC:
      case EFBIG:
        return new S3Exception("EntityTooLarge", 400, "No space left for " + key + ": " + status);
      case ENOTEMPTY:
        return new S3Exception("InvalidRequest", 409, "The key names a non-empty directory: " + key);
      case UNAVAILABLE:
      case DEADLINE_EXCEEDED:
      case CAP_HELD:
      case SESSION_EXPIRED:
        return new S3Exception("ServiceUnavailable", 503,
            "The cluster is not available now, please retry: " + e.getMessage());
      default:
        return internal(status + ": " + e.getMessage());
    }
  }

  /** The error document S3 sends with every error status. */
  static String xml(S3Exception e, String resource, String requestId) {
    return Xml.document("Error", false, x -> x
        .element("Code", e.code())
        .element("Message", e.getMessage())
        .element("Resource", resource)
        .element("RequestId", requestId));
  }
}
