package io.shoalfs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Signature V4 against the examples AWS publishes: the signature test suite's get-vanilla,
 * and the S3 documentation's header-signed GET, presigned GET and aws-chunked PUT.
 */
class SigV4VerifierTest {
  static final String S3_KEY = "AKIAIOSFODNN7EXAMPLE";
  static final String S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  static final Instant S3_EXAMPLE_TIME = Instant.parse("2013-05-24T00:00:00Z");

  private final SigV4Verifier verifier = new SigV4Verifier(
      id -> id.equals(S3_KEY) ? Optional.of(S3_SECRET) : Optional.empty());

  @Test
  void signatureTestSuiteGetVanilla() {
    TreeMap<String, String> headers = new TreeMap<>(Map.of(
        "host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z"));
    String canonical = SigV4.canonicalRequest("GET", "/", Map.of(), headers, SigV4.EMPTY_SHA256);
    byte[] key = SigV4.signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
        "us-east-1", "service");
    String signature = SigV4.signature(key, SigV4.stringToSign("20150830T123600Z",
        "20150830/us-east-1/service/aws4_request", canonical));
    assertEquals("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", signature);
  }

  static HttpHeaders getObjectHeaders(String signature) {
    HttpHeaders h = new DefaultHttpHeaders();
    h.set("Host", "examplebucket.s3.amazonaws.com");
    h.set("Range", "bytes=0-9");
    h.set("x-amz-content-sha256", SigV4.EMPTY_SHA256);
    h.set("x-amz-date", "20130524T000000Z");
    h.set("Authorization", "AWS4-HMAC-SHA256 Credential=" + S3_KEY
        + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;"
        + "x-amz-date,Signature=" + signature);
    return h;
  }

  @Test
  void s3DocumentationGetObject() throws Exception {
    SigV4Verifier.Signed signed = verifier.verify("GET", "/test.txt", Map.of(),
        getObjectHeaders("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        S3_EXAMPLE_TIME);
    assertEquals(S3_KEY, signed.accessKey());
    assertEquals(SigV4Verifier.Payload.SIGNED_HASH, signed.payload());
  }

  @Test
  void aChangedSignatureOrSecretOrRequestIsRefused() {
    String good = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    String bad = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb42";
    assertEquals("SignatureDoesNotMatch", assertThrows(S3Exception.class, () -> verifier.verify(
        "GET", "/test.txt", Map.of(), getObjectHeaders(bad), S3_EXAMPLE_TIME)).code());
    assertEquals("SignatureDoesNotMatch", assertThrows(S3Exception.class, () -> verifier.verify(
        "GET", "/test2.txt", Map.of(), getObjectHeaders(good), S3_EXAMPLE_TIME)).code());
    assertEquals("SignatureDoesNotMatch", assertThrows(S3Exception.class, () -> verifier.verify(
        "DELETE", "/test.txt", Map.of(), getObjectHeaders(good), S3_EXAMPLE_TIME)).code());
    SigV4Verifier otherSecret = new SigV4Verifier(id -> Optional.of("another secret"));
    assertEquals("SignatureDoesNotMatch", assertThrows(S3Exception.class, () -> otherSecret.verify(
        "GET", "/test.txt", Map.of(), getObjectHeaders(good), S3_EXAMPLE_TIME)).code());
    SigV4Verifier noKeys = new SigV4Verifier(id -> Optional.empty());
    assertEquals("InvalidAccessKeyId", assertThrows(S3Exception.class, () -> noKeys.verify(
        "GET", "/test.txt", Map.of(), getObjectHeaders(good), S3_EXAMPLE_TIME)).code());
  }

  @Test
  void aRequestTooFarFromNowIsRefused() {
    S3Exception e = assertThrows(S3Exception.class, () -> verifier.verify("GET", "/test.txt",
        Map.of(), getObjectHeaders("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        S3_EXAMPLE_TIME.plusSeconds(16 * 60)));
    assertEquals("RequestTimeTooSkewed", e.code());
  }

  @Test
  void anUnsignedRequestIsAccessDenied() {
    HttpHeaders h = new DefaultHttpHeaders();
    h.set("Host", "x");
    S3Exception e = assertThrows(S3Exception.class,
        () -> verifier.verify("GET", "/", Map.of(), h, S3_EXAMPLE_TIME));
    assertEquals("AccessDenied", e.code());
    assertEquals(403, e.status());
  }

  static Map<String, List<String>> presignedQuery(String signature) {
    Map<String, List<String>> q = new TreeMap<>();
    q.put("X-Amz-Algorithm", List.of("AWS4-HMAC-SHA256"));
    q.put("X-Amz-Credential", List.of(S3_KEY + "/20130524/us-east-1/s3/aws4_request"));
    q.put("X-Amz-Date", List.of("20130524T000000Z"));
    q.put("X-Amz-Expires", List.of("86400"));
    q.put("X-Amz-SignedHeaders", List.of("host"));
    q.put("X-Amz-Signature", List.of(signature));
    return q;
  }

  @Test
  void s3DocumentationPresignedUrl() throws Exception {
    HttpHeaders h = new DefaultHttpHeaders();
    h.set("Host", "examplebucket.s3.amazonaws.com");
    String good = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    SigV4Verifier.Signed signed = verifier.verify("GET", "/test.txt", presignedQuery(good), h,
        S3_EXAMPLE_TIME.plusSeconds(3600));
    assertEquals(SigV4Verifier.Payload.UNSIGNED, signed.payload());
    assertEquals("AccessDenied", assertThrows(S3Exception.class, () -> verifier.verify("GET",
        "/test.txt", presignedQuery(good), h, S3_EXAMPLE_TIME.plusSeconds(86401))).code(),
        "expired");
    assertEquals("SignatureDoesNotMatch", assertThrows(S3Exception.class, () -> verifier.verify(
        "GET", "/other.txt", presignedQuery(good), h, S3_EXAMPLE_TIME)).code());
  }

  /** The S3 documentation's aws-chunked PUT: 66560 bytes of 'a' in chunks of 64 KiB and 1 KiB. */
  static HttpHeaders chunkedPutHeaders() {
    HttpHeaders h = new DefaultHttpHeaders();
    h.set("Host", "s3.amazonaws.com");
    h.set("x-amz-date", "20130524T000000Z");
    h.set("x-amz-storage-class", "REDUCED_REDUNDANCY");
    h.set("Content-Encoding", "aws-chunked");
    h.set("x-amz-decoded-content-length", "66560");
    h.set("Content-Length", "66824");
    h.set("x-amz-content-sha256", SigV4.STREAMING_PAYLOAD);
    h.set("Authorization", "AWS4-HMAC-SHA256 Credential=" + S3_KEY
        + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;"
        + "host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
        + "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    return h;
  }

  static byte[] chunkedBody(String firstChunkSignature) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] big = new byte[65536];
    Arrays.fill(big, (byte) 'a');
    byte[] small = Arrays.copyOf(big, 1024);
    b.writeBytes(("10000;chunk-signature=" + firstChunkSignature + "\r\n").getBytes(StandardCharsets.US_ASCII));
    b.writeBytes(big);
    b.writeBytes(("\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n").getBytes(StandardCharsets.US_ASCII));
    b.writeBytes(small);
    b.writeBytes(("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    return b.toByteArray();
  }

  static final String FIRST_CHUNK_SIGNATURE =
      "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";

  @Test
  void s3DocumentationChunkedUpload() throws Exception {
    SigV4Verifier.Signed signed = verifier.verify("PUT", "/examplebucket/chunkObject.txt",
        Map.of(), chunkedPutHeaders(), S3_EXAMPLE_TIME);
    assertEquals(SigV4Verifier.Payload.STREAMING, signed.payload());
    InputStream decoded = Payloads.open(new ByteArrayInputStream(chunkedBody(FIRST_CHUNK_SIGNATURE)),
        signed, chunkedPutHeaders());
    byte[] all = decoded.readAllBytes();
    assertEquals(66560, all.length);
    for (byte x : all) {
      assertEquals('a', x);
    }
  }

  @Test
  void aChunkWithAWrongSignatureFailsTheBody() throws Exception {
    SigV4Verifier.Signed signed = verifier.verify("PUT", "/examplebucket/chunkObject.txt",
        Map.of(), chunkedPutHeaders(), S3_EXAMPLE_TIME);
    InputStream decoded = Payloads.open(new ByteArrayInputStream(chunkedBody(
        FIRST_CHUNK_SIGNATURE.replace('a', 'b'))), signed, chunkedPutHeaders());
    PayloadException e = assertThrows(PayloadException.class, decoded::readAllBytes);
    assertEquals("SignatureDoesNotMatch", e.error().code());
  }

  @Test
  void aTruncatedOrGarbledChunkedBodyFails() throws Exception {
    SigV4Verifier.Signed signed = verifier.verify("PUT", "/examplebucket/chunkObject.txt",
        Map.of(), chunkedPutHeaders(), S3_EXAMPLE_TIME);
    byte[] body = chunkedBody(FIRST_CHUNK_SIGNATURE);
    InputStream truncated = Payloads.open(new ByteArrayInputStream(Arrays.copyOf(body, 60000)),
        signed, chunkedPutHeaders());
    assertEquals("IncompleteBody",
        assertThrows(PayloadException.class, truncated::readAllBytes).error().code());
    InputStream garbled = Payloads.open(new ByteArrayInputStream(
        "zz;chunk-signature=00\r\n".getBytes(StandardCharsets.US_ASCII)), signed, chunkedPutHeaders());
    assertEquals("IncompleteBody",
        assertThrows(PayloadException.class, garbled::readAllBytes).error().code());
  }

  @Test
  void aSignedPayloadHashIsCheckedAtTheEnd() throws Exception {
    SigV4Verifier.Signed signed = new SigV4Verifier.Signed(S3_KEY,
        SigV4Verifier.Payload.SIGNED_HASH, SigV4.sha256Hex("hello"), null, null, null, null);
    assertEquals("hello", new String(Payloads.open(new ByteArrayInputStream(
        "hello".getBytes(StandardCharsets.UTF_8)), signed, new DefaultHttpHeaders()).readAllBytes(),
        StandardCharsets.UTF_8));
    InputStream other = Payloads.open(new ByteArrayInputStream(
        "hellO".getBytes(StandardCharsets.UTF_8)), signed, new DefaultHttpHeaders());
    assertEquals("XAmzContentSHA256Mismatch",
        assertThrows(PayloadException.class, other::readAllBytes).error().code());
  }

  @Test
  void uriEncodingIsAwsStyle() {
    assertEquals("/a%20b/c%2Bd~e_f.g-h/%C3%A9", SigV4.uriEncode("/a b/c+d~e_f.g-h/é", false));
    assertEquals("a%2Fb%3D", SigV4.uriEncode("a/b=", true));
  }
}
