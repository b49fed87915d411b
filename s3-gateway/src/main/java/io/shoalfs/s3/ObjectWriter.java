package io.shoalfs.s3;

import com.google.protobuf.ByteString;
import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.Attr;
import io.shoalfs.rpc.RpcException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;

/**
 * Writes an object's bytes into a (staged) file as they arrive, through one buffer of at most
 * {@link #BUFFER} bytes, and computes their MD5 on the way; then makes them durable and part of
 * the file. Memory does not depend on the object's size.
 */
final class ObjectWriter {
  static final int BUFFER = 4 << 20;

  /** The file as written, and the MD5 of its bytes in hex. */
  record Written(Attr attr, String md5) {}

  private final ClientCore core;
  private final long inode;
  private final byte[] buffer;
  private final MessageDigest md5 = ObjectMetadata.md5();
  private int filled;
  private long offset;
  /** How much of the file {@link #settle} last made durable and committed. */
  private long settled;

  ObjectWriter(ClientCore core, long inode) {
    this.core = core;
    this.inode = inode;
    this.buffer = new byte[(int) Math.min(BUFFER, core.chunkSize())];
  }

  /** Appends all of {@code in}. */
  ObjectWriter append(InputStream in) throws IOException, RpcException {
    while (true) {
      int n = in.read(buffer, filled, buffer.length - filled);
      if (n < 0) {
        return this;
      }
      filled += n;
      if (filled == buffer.length) {
        flush(false);
      }
    }
  }

  /** Appends one piece. */
  ObjectWriter append(ByteString piece) throws RpcException {
    int at = 0;
    while (at < piece.size()) {
      int n = Math.min(piece.size() - at, buffer.length - filled);
      piece.copyTo(buffer, at, filled, n);
      filled += n;
      at += n;
      if (filled == buffer.length) {
        flush(false);
      }
    }
    return this;
  }

  private void flush(boolean sync) throws RpcException {
    if (filled == 0) {
      return;
    }
    core.write(inode, offset, buffer, filled, sync);
    md5.update(buffer, 0, filled);
    offset += filled;
    filled = 0;
  }

  long size() {
    return offset + filled;
  }

  /**
   * Makes everything appended so far durable and part of the file (its size), so that whole
   * chunks can be moved in at its end ({@link ClientCore#appendByMovingChunks}).
   */
  void settle() throws RpcException {
    flush(false);
    if (offset > settled) {
      core.sync(inode);
      core.commit(inode, offset, nowNs());
    }
    settled = offset;
  }

  /**
   * Counts {@code bytes} that reached the file without this writer (moved chunks) as appended.
   * The MD5 {@link #finish} gives then covers only what went through the writer: the caller
   * does not use it.
   */
  void skip(long bytes) {
    if (filled != 0) {
      throw new IllegalStateException("bytes buffered: settle() before moving chunks in");
    }
    offset += bytes;
    settled = offset; // the move itself set the file's size
  }

  /**
   * Writes what is buffered, makes it all durable and sets the file's size. An object that
   * fits the buffer (most are small) is written durably in that one write; a larger one is
   * synced on every data node once its last bytes are written.
   */
  Written finish() throws RpcException {
    syncAll();
    Attr attr = core.commit(inode, offset, nowNs());
    return new Written(attr, HexFormat.of().formatHex(md5.digest()));
  }

  /**
   * As {@link #finish()}, and stores {@code metadata} with the ETag on the file in the same log
   * entry as the commit.
   */
  Written finish(ObjectMetadata metadata) throws RpcException {
    syncAll();
    String etag = HexFormat.of().formatHex(md5.digest());
    long now = nowNs();
    Attr attr = core.commitWithXattrs(inode, offset, now, metadata.xattrs(etag, now, offset));
    return new Written(attr, etag);
  }

  private void syncAll() throws RpcException {
    if (offset == 0) {
      flush(true);
    } else {
      flush(false);
      core.sync(inode);
    }
  }

  private static long nowNs() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }
}
