package io.shoalfs.localread;

import io.netty.buffer.ByteBuf;

/**
 * What a mount asks its host's server for on the short-circuit socket: the copy of one chunk,
 * at exactly the version the chunk map gave the mount. A fixed 20-byte frame (inode, index,
 * version, big-endian), one per connection.
 *
 * <p>The answer carries no bytes: the server sends two file descriptors, the copy's data file
 * then its checksum file (one CRC32C per block, 4 bytes big-endian each), and closes the
 * connection; a refusal (another version, no copy, any error) is the connection closed with
 * none sent. Either way the mount reads and verifies the bytes itself or uses the network path.
 */
public record LocalReadRequest(long inode, int index, long version) {
  public static final int BYTES = Long.BYTES + Integer.BYTES + Long.BYTES;
  /** Descriptors in an answer: data file, checksum file. */
  public static final int DESCRIPTORS = 2;
  /** The token file is the socket's path with this appended. */
  public static final String TOKEN_SUFFIX = ".token";

  public void encode(ByteBuf out) {
    out.writeLong(inode).writeInt(index).writeLong(version);
  }

  /** Reads one request from {@code in}, which must hold {@link #BYTES} readable bytes. */
  public static LocalReadRequest decode(ByteBuf in) {
    return new LocalReadRequest(in.readLong(), in.readInt(), in.readLong());
  }
}
