package io.shoalfs.server.data;

/** One chunk: the piece {@code [index * chunkSize, (index + 1) * chunkSize)} of one file. */
record ChunkKey(long inode, int index) {

  @Override
  public String toString() {
    return Long.toUnsignedString(inode) + "#" + index;
  }
}
