package io.shoalfs.s3;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/** Small request bodies (XML documents) read whole, up to a bound. */
final class Bodies {
  private Bodies() {}

  /** The body as a stream over its bytes; EntityTooLarge past {@code max} bytes. */
  static InputStream limited(InputStream in, int max) throws IOException, S3Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
      out.write(buf, 0, n);
      if (out.size() > max) {
        throw new S3Exception("EntityTooLarge", 400, "The request body is larger than "
            + max + " bytes");
      }
    }
    return new ByteArrayInputStream(out.toByteArray());
  }
}
