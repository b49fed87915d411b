package io.shoalfs.s3;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The pieces of AWS Signature Version 4 (the canonical request, the string to sign, the
 * signing key), as AWS's documentation defines them for S3: paths are URI-encoded once, not
 * twice as for other services. Pure functions; {@link SigV4Verifier} decides what to check.
 */
final class SigV4 {
  static final String ALGORITHM = "AWS4-HMAC-SHA256";
  static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
  static final String STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  static final String EMPTY_SHA256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  private static final HexFormat HEX = HexFormat.of();

  private SigV4() {}

  /** The signing key of one day, region and service ("s3"). */
  static byte[] signingKey(String secret, String date, String region, String service) {
    byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, service);
    return hmac(k, "aws4_request");
  }

  /**
   * The canonical request. {@code path} is decoded (it is encoded here); {@code query} maps
   * decoded names to decoded values (a name given twice keeps its values in order);
   * {@code headers} maps lower-case names to their values, and holds exactly the signed ones.
   */
  static String canonicalRequest(String method, String path, Map<String, List<String>> query,
      TreeMap<String, String> headers, String payloadHash) {
    StringBuilder b = new StringBuilder();
    b.append(method).append('\n');
    b.append(uriEncode(path.isEmpty() ? "/" : path, false)).append('\n');
    b.append(canonicalQuery(query)).append('\n');
    headers.forEach((name, value) -> b.append(name).append(':').append(trimValue(value)).append('\n'));
    b.append('\n');
    b.append(String.join(";", headers.keySet())).append('\n');
    b.append(payloadHash);
    return b.toString();
  }

  static String canonicalQuery(Map<String, List<String>> query) {
    List<String> pairs = new ArrayList<>();
    query.forEach((name, values) -> {
      for (String v : values) {
        pairs.add(uriEncode(name, true) + "=" + uriEncode(v, true));
      }
    });
    pairs.sort(null);
    return String.join("&", pairs);
  }

  static String stringToSign(String amzDate, String scope, String canonicalRequest) {
    return ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonicalRequest);
  }

  /** The string a chunk of an aws-chunked body signs, chained to the previous signature. */
  static String chunkStringToSign(String amzDate, String scope, String previousSignature,
      String chunkSha256) {
    return ALGORITHM + "-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previousSignature + "\n"
        + EMPTY_SHA256 + "\n" + chunkSha256;
  }

  static String signature(byte[] signingKey, String stringToSign) {
    return HEX.formatHex(hmac(signingKey, stringToSign));
  }

  /**
   * AWS's URI encoding: every byte but the unreserved characters (A-Z a-z 0-9 - . _ ~) as %XX
   * in upper case; '/' kept unless {@code encodeSlash}.
   */
  static String uriEncode(String s, boolean encodeSlash) {
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (byte by : s.getBytes(StandardCharsets.UTF_8)) {
      int c = by & 0xFF;
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && !encodeSlash)) {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    return b.toString();
  }

  /** Leading and trailing spaces removed, inner runs of spaces made one. */
  static String trimValue(String value) {
    return value.trim().replaceAll(" +", " ");
  }

  static String sha256Hex(String s) {
    return sha256Hex(s.getBytes(StandardCharsets.UTF_8));
  }

  static String sha256Hex(byte[] bytes) {
    return HEX.formatHex(sha256().digest(bytes));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  /** Compares signatures in time that does not depend on where they differ. */
  static boolean same(String a, String b) {
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII),
        b.getBytes(StandardCharsets.US_ASCII));
  }
}
