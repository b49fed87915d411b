package io.shoalfs.s3;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The conditional headers of GET and HEAD, evaluated as S3 does: If-Match and
 * If-Unmodified-Since fail with 412; If-None-Match and If-Modified-Since answer 304. When
 * If-Match holds, If-Unmodified-Since is not looked at; when If-None-Match fails (the ETag
 * matches), If-Modified-Since is not looked at either.
 */
final class Conditionals {
  /** What to answer instead of the object. */
  enum Outcome { PROCEED, NOT_MODIFIED }

  private Conditionals() {}

  static Outcome check(S3Request request, String etag, Instant lastModified) throws S3Exception {
    // HTTP dates have whole seconds.
    Instant modified = lastModified.truncatedTo(ChronoUnit.SECONDS);
    String ifMatch = request.header("If-Match");
    String ifNoneMatch = request.header("If-None-Match");
    Instant ifModifiedSince = S3Time.parseHttp(request.header("If-Modified-Since"));
    Instant ifUnmodifiedSince = S3Time.parseHttp(request.header("If-Unmodified-Since"));
    if (ifMatch != null) {
      if (!matches(ifMatch, etag)) {
        throw S3Errors.preconditionFailed();
      }
    } else if (ifUnmodifiedSince != null && modified.isAfter(ifUnmodifiedSince)) {
      throw S3Errors.preconditionFailed();
    }
    if (ifNoneMatch != null) {
      if (matches(ifNoneMatch, etag)) {
        return Outcome.NOT_MODIFIED;
      }
    } else if (ifModifiedSince != null && !modified.isAfter(ifModifiedSince)) {
      return Outcome.NOT_MODIFIED;
    }
    return Outcome.PROCEED;
  }

  /** Whether a list of ETags ("*", or quoted ETags separated by commas) holds {@code etag}. */
  static boolean matches(String header, String etag) {
    for (String candidate : header.split(",")) {
      String c = candidate.trim();
      if (c.startsWith("W/")) {
        c = c.substring(2);
      }
      if (c.equals("*") || unquote(c).equals(etag)) {
        return true;
      }
    }
    return false;
  }

  static String unquote(String s) {
    return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
  }
}
