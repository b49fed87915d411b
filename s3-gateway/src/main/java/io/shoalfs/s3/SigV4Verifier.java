package io.shoalfs.s3;

import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Checks a request's AWS Signature V4, in the Authorization header or in the query string (a
 * presigned URL), against the secret of its access key. What it cannot check before the body
 * is read (the payload's hash, or the signatures of an aws-chunked body) it returns in the
 * {@link Signed} answer, for the body reader to check as the bytes go by.
 */
final class SigV4Verifier {
  static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  /** How far a request's time may be from ours, as S3 allows. */
  static final Duration MAX_SKEW = Duration.ofMinutes(15);
  static final long MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

  /** How the body is covered: its hash, nothing, or aws-chunked signatures. */
  enum Payload { SIGNED_HASH, UNSIGNED, STREAMING }

  /**
   * A request whose headers (or query) were signed by {@code accessKey}'s owner. For
   * {@link Payload#SIGNED_HASH}, {@code payloadHash} is what the body's SHA-256 must be; for
   * {@link Payload#STREAMING}, the chunk signatures start from {@code seedSignature}.
   */
  record Signed(String accessKey, Payload payload, String payloadHash, byte[] signingKey,
      String amzDate, String scope, String seedSignature) {}

  private final Function<String, Optional<String>> secrets;

  /** {@code secrets}: the secret key of an access key id, if the cluster has that key. */
  SigV4Verifier(Function<String, Optional<String>> secrets) {
    this.secrets = secrets;
  }

  Signed verify(String method, String path, Map<String, List<String>> query,
      HttpHeaders headers, Instant now) throws S3Exception {
    String authorization = headers.get("Authorization");
    if (authorization != null) {
      return verifyHeader(method, path, query, headers, authorization, now);
    }
    if (query.containsKey("X-Amz-Signature")) {
      return verifyPresigned(method, path, query, headers, now);
    }
    if (query.containsKey("Signature") || query.containsKey("AWSAccessKeyId")) {
      throw S3Errors.accessDenied("Signature Version 2 is not supported: sign with AWS4-HMAC-SHA256");
    }
    throw S3Errors.accessDenied("Anonymous access is not allowed: sign the request");
  }

  private Signed verifyHeader(String method, String path, Map<String, List<String>> query,
      HttpHeaders headers, String authorization, Instant now) throws S3Exception {
    if (!authorization.startsWith(SigV4.ALGORITHM + " ")) {
      throw S3Errors.accessDenied("Only " + SigV4.ALGORITHM + " signatures are supported");
    }
    Map<String, String> fields = new TreeMap<>();
    for (String part : authorization.substring(SigV4.ALGORITHM.length() + 1).split(",")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        fields.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
      }
    }
    String credential = required(fields, "Credential");
    String signedHeaders = required(fields, "SignedHeaders");
    String signature = required(fields, "Signature");
    String amzDate = headers.get("X-Amz-Date");
    if (amzDate == null) {
      throw S3Errors.accessDenied("AWS authentication requires an X-Amz-Date header");
    }
    Instant at = parseDate(amzDate);
    if (Duration.between(at, now).abs().compareTo(MAX_SKEW) > 0) {
      throw S3Errors.requestTimeTooSkewed();
    }
    String payloadHash = headers.get("X-Amz-Content-SHA256");
    if (payloadHash == null) {
      throw new S3Exception("InvalidRequest", 400,
          "Missing required header for this request: x-amz-content-sha256");
    }
    Payload payload;
    if (payloadHash.equals(SigV4.UNSIGNED_PAYLOAD)) {
      payload = Payload.UNSIGNED;
    } else if (payloadHash.equals(SigV4.STREAMING_PAYLOAD)) {
      payload = Payload.STREAMING;
    } else if (payloadHash.startsWith("STREAMING-")) {
      throw S3Errors.notImplemented("Payload mode " + payloadHash);
    } else if (payloadHash.matches("[0-9a-f]{64}")) {
      payload = Payload.SIGNED_HASH;
    } else {
      throw S3Errors.invalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
          + SigV4.STREAMING_PAYLOAD + " or a SHA-256 in hex");
    }
    Scope scope = Scope.parse(credential, amzDate);
    byte[] key = signingKey(scope);
    String canonical = SigV4.canonicalRequest(method, path, query,
        signedHeaderValues(headers, signedHeaders), payloadHash);
    String expected = SigV4.signature(key, SigV4.stringToSign(amzDate, scope.text(), canonical));
    if (!SigV4.same(expected, signature)) {
      throw S3Errors.signatureDoesNotMatch();
    }
    return new Signed(scope.accessKey(), payload, payloadHash, key, amzDate, scope.text(),
        signature);
  }

  private Signed verifyPresigned(String method, String path, Map<String, List<String>> query,
      HttpHeaders headers, Instant now) throws S3Exception {
    String algorithm = single(query, "X-Amz-Algorithm");
    if (!SigV4.ALGORITHM.equals(algorithm)) {
      throw S3Errors.accessDenied("Only " + SigV4.ALGORITHM + " signatures are supported");
    }
    String amzDate = single(query, "X-Amz-Date");
    Instant at = parseDate(amzDate);
    long expires;
    try {
      expires = Long.parseLong(single(query, "X-Amz-Expires"));
    } catch (NumberFormatException e) {
      throw S3Errors.authorizationHeaderMalformed("X-Amz-Expires must be a number of seconds");
    }
    if (expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
      throw S3Errors.authorizationHeaderMalformed("X-Amz-Expires must be 1 to "
          + MAX_PRESIGNED_SECONDS + " seconds");
    }
    if (now.isAfter(at.plusSeconds(expires))) {
      throw S3Errors.accessDenied("Request has expired");
    }
    if (at.isAfter(now.plus(MAX_SKEW))) {
      throw S3Errors.requestTimeTooSkewed();
    }
    Scope scope = Scope.parse(single(query, "X-Amz-Credential"), amzDate);
    String signature = single(query, "X-Amz-Signature");
    Map<String, List<String>> signedQuery = new TreeMap<>(query);
    signedQuery.remove("X-Amz-Signature");
    byte[] key = signingKey(scope);
    String canonical = SigV4.canonicalRequest(method, path, signedQuery,
        signedHeaderValues(headers, single(query, "X-Amz-SignedHeaders")), SigV4.UNSIGNED_PAYLOAD);
    String expected = SigV4.signature(key, SigV4.stringToSign(amzDate, scope.text(), canonical));
    if (!SigV4.same(expected, signature)) {
      throw S3Errors.signatureDoesNotMatch();
    }
    return new Signed(scope.accessKey(), Payload.UNSIGNED, SigV4.UNSIGNED_PAYLOAD, key, amzDate,
        scope.text(), signature);
  }

  private byte[] signingKey(Scope scope) throws S3Exception {
    String secret = secrets.apply(scope.accessKey())
        .orElseThrow(() -> S3Errors.invalidAccessKeyId(scope.accessKey()));
    return SigV4.signingKey(secret, scope.date(), scope.region(), scope.service());
  }

  /** The signed headers' values; "host" must be among them, as AWS requires. */
  private static TreeMap<String, String> signedHeaderValues(HttpHeaders headers, String names)
      throws S3Exception {
    TreeMap<String, String> values = new TreeMap<>();
    for (String name : names.split(";")) {
      String lower = name.trim().toLowerCase(Locale.ROOT);
      if (lower.isEmpty()) {
        continue;
      }
      List<String> all = headers.getAll(lower);
      values.put(lower, String.join(",", all.stream().map(SigV4::trimValue).toList()));
    }
    if (!values.containsKey("host")) {
      throw S3Errors.authorizationHeaderMalformed("SignedHeaders must include host");
    }
    return values;
  }

  private static Instant parseDate(String amzDate) throws S3Exception {
    try {
      return Instant.from(AMZ_DATE.parse(amzDate));
    } catch (DateTimeParseException e) {
      throw S3Errors.accessDenied("X-Amz-Date is not of the form yyyyMMddTHHmmssZ: " + amzDate);
    }
  }

  private static String required(Map<String, String> fields, String name) throws S3Exception {
    String v = fields.get(name);
    if (v == null || v.isEmpty()) {
      throw S3Errors.authorizationHeaderMalformed("The authorization header lacks " + name);
    }
    return v;
  }

  private static String single(Map<String, List<String>> query, String name) throws S3Exception {
    List<String> v = query.get(name);
    if (v == null || v.size() != 1) {
      throw S3Errors.authorizationHeaderMalformed("Query-string authentication requires "
          + name + " once");
    }
    return v.get(0);
  }

  /** A credential scope: {@code AKID/yyyyMMdd/region/service/aws4_request}. */
  record Scope(String accessKey, String date, String region, String service) {
    static Scope parse(String credential, String amzDate) throws S3Exception {
      String[] p = credential.split("/");
      if (p.length != 5 || !p[4].equals("aws4_request") || !p[3].equals("s3")) {
        throw S3Errors.authorizationHeaderMalformed("The credential is not of the form "
            + "ACCESS_KEY/DATE/REGION/s3/aws4_request: " + credential);
      }
      if (!amzDate.startsWith(p[1])) {
        throw S3Errors.authorizationHeaderMalformed("The credential's date " + p[1]
            + " is not the request's date " + amzDate);
      }
      return new Scope(p[0], p[1], p[2], p[3]);
    }

    String text() {
      return date + "/" + region + "/" + service + "/aws4_request";
    }
  }
}
