package io.shoalfs.s3;

import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The body of a request as its signature covers it: checked against the signed SHA-256 as it
 * streams (the mismatch surfaces at the end, before the reader sees end-of-stream, so nothing
 * is published), decoded from aws-chunked with each chunk's signature checked, or as it came
 * for UNSIGNED-PAYLOAD.
 */
final class Payloads {
  private Payloads() {}

  static InputStream open(InputStream body, SigV4Verifier.Signed signed, HttpHeaders headers)
      throws S3Exception {
    switch (signed.payload()) {
      case STREAMING -> {
        String decoded = headers.get("x-amz-decoded-content-length");
        long length;
        try {
          length = decoded == null ? -1 : Long.parseLong(decoded.trim());
        } catch (NumberFormatException e) {
          throw S3Errors.invalidArgument("x-amz-decoded-content-length is not a number");
        }
        return new ChunkedPayloadDecoder(body, signed, length);
      }
      case SIGNED_HASH -> {
        return new HashChecked(body, signed.payloadHash());
      }
      default -> {
        return body;
      }
    }
  }

  /** A body whose SHA-256 must be {@code expected}; checked when it ends. */
  private static final class HashChecked extends BufferReadStream {
    private final InputStream in;
    private final MessageDigest digest = SigV4.sha256();
    private final String expected;
    private boolean checked;

    HashChecked(InputStream in, String expected) {
      this.in = in;
      this.expected = expected;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        digest.update(b, off, n);
      } else if (n < 0 && !checked) {
        checked = true;
        if (!HexFormat.of().formatHex(digest.digest()).equals(expected)) {
          throw new PayloadException(S3Errors.contentSha256Mismatch());
        }
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
