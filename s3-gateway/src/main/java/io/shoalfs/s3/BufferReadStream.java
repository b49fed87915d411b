package io.shoalfs.s3;

import java.io.IOException;
import java.io.InputStream;

/**
 * A stream whose every read is a buffer read: the one-byte {@link #read()} is that read of one
 * byte, written once here instead of in each of the gateway's body streams (the request body,
 * the aws-chunked decoder, the hash check), which only implement {@link #read(byte[], int, int)}.
 */
abstract class BufferReadStream extends InputStream {

  @Override
  public final int read() throws IOException {
    byte[] one = new byte[1];
    int n;
    do {
      n = read(one, 0, 1);
    } while (n == 0);
    return n < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public abstract int read(byte[] b, int off, int len) throws IOException;
}
