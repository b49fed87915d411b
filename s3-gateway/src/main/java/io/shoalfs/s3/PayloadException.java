package io.shoalfs.s3;

import java.io.IOException;

/**
 * A body that fails a check while it is read (a chunk signature, its hash, its framing): an
 * IOException so it can leave an InputStream, carrying the S3 error to answer with.
 */
final class PayloadException extends IOException {
  private final S3Exception error;

  PayloadException(S3Exception error) {
    super(error.getMessage());
    this.error = error;
  }

  S3Exception error() {
    return error;
  }
}
