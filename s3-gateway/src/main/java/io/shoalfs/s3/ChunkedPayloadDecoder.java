package io.shoalfs.s3;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Decodes an aws-chunked body ({@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}): frames of
 * {@code hex-size;chunk-signature=SIG\r\n DATA \r\n}, ending with a frame of size 0. Each
 * chunk's signature signs its data's SHA-256 chained to the previous signature (the first to
 * the request's own); a wrong one fails the read with SignatureDoesNotMatch. The data is passed
 * on as it arrives, before its chunk's signature is checked, so memory does not grow with the
 * chunk size: the caller must not publish what it read until the stream has ended cleanly.
 */
final class ChunkedPayloadDecoder extends BufferReadStream {
  /** A frame header longer than this is not aws-chunked framing. */
  private static final int MAX_HEADER = 4096;
  private static final String SIGNATURE_FIELD = ";chunk-signature=";

  private final InputStream in;
  private final byte[] signingKey;
  private final String amzDate;
  private final String scope;
  private final long expectedLength;
  private String previousSignature;
  private final MessageDigest chunkDigest = SigV4.sha256();
  private String chunkSignature;
  private long chunkLeft;
  private long decoded;
  private boolean done;

  /**
   * @param expectedLength the decoded length the client announced
   *     (x-amz-decoded-content-length), checked at the end; -1 if it did not
   */
  ChunkedPayloadDecoder(InputStream in, SigV4Verifier.Signed signed, long expectedLength) {
    this.in = in;
    this.signingKey = signed.signingKey();
    this.amzDate = signed.amzDate();
    this.scope = signed.scope();
    this.previousSignature = signed.seedSignature();
    this.expectedLength = expectedLength;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (!done && chunkLeft == 0) {
      nextFrame();
    }
    if (done) {
      return -1;
    }
    int n = in.read(b, off, (int) Math.min(len, chunkLeft));
    if (n < 0) {
      throw malformed("the body ended inside a chunk");
    }
    chunkDigest.update(b, off, n);
    chunkLeft -= n;
    decoded += n;
    if (chunkLeft == 0) {
      expectCrLf();
      verifyChunk();
    }
    return n;
  }

  /** Reads a frame header; a zero-size frame (verified at once) ends the body. */
  private void nextFrame() throws IOException {
    String header = readLine();
    int semi = header.indexOf(SIGNATURE_FIELD);
    if (semi <= 0) {
      throw malformed("a chunk header lacks its chunk-signature: " + header);
    }
    long size;
    try {
      size = Long.parseLong(header.substring(0, semi), 16);
    } catch (NumberFormatException e) {
      throw malformed("a chunk size is not hexadecimal: " + header);
    }
    if (size < 0) {
      throw malformed("a chunk size is negative");
    }
    chunkSignature = header.substring(semi + SIGNATURE_FIELD.length());
    chunkLeft = size;
    if (size == 0) {
      verifyChunk();
      // The final frame is followed by an empty line (no trailers in this payload mode).
      expectCrLf();
      if (expectedLength >= 0 && decoded != expectedLength) {
        throw new PayloadException(S3Errors.incompleteBody("the body decoded to " + decoded
            + " bytes, x-amz-decoded-content-length says " + expectedLength));
      }
      done = true;
    }
  }

  private void verifyChunk() throws PayloadException {
    String hash = HexFormat.of().formatHex(chunkDigest.digest());
    String expected = SigV4.signature(signingKey,
        SigV4.chunkStringToSign(amzDate, scope, previousSignature, hash));
    if (!SigV4.same(expected, chunkSignature)) {
      throw new PayloadException(S3Errors.signatureDoesNotMatch());
    }
    previousSignature = chunkSignature;
  }

  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw malformed("the body ended before its final chunk");
      }
      if (c == '\r') {
        if (in.read() != '\n') {
          throw malformed("a chunk header does not end with CRLF");
        }
        return line.toString();
      }
      if (line.length() >= MAX_HEADER) {
        throw malformed("a chunk header is too long");
      }
      line.append((char) c);
    }
  }

  private void expectCrLf() throws IOException {
    if (in.read() != '\r' || in.read() != '\n') {
      throw malformed("a chunk's data is not followed by CRLF");
    }
  }

  private static PayloadException malformed(String what) {
    return new PayloadException(S3Errors.incompleteBody("Malformed aws-chunked body: " + what));
  }
}
