package io.shoalfs.server.data;

import java.io.IOException;

/**
 * A block's bytes did not match the CRC32C stored for it (or the CRC is missing). The bytes
 * are never served: the data plane answers CORRUPT, which the client sees as EIO.
 */
public final class CorruptChunkException extends IOException {
  private final long inode;
  private final int index;
  private final long block;

  public CorruptChunkException(long inode, int index, long block, String detail) {
    super("corrupt chunk " + Long.toUnsignedString(inode) + "#" + index + " block " + block
        + ": " + detail);
    this.inode = inode;
    this.index = index;
    this.block = block;
  }

  public long inode() {
    return inode;
  }

  public int index() {
    return index;
  }

  /** The block (of the chunk's block size) whose checksum failed. */
  public long block() {
    return block;
  }
}
