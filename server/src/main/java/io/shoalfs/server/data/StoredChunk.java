package io.shoalfs.server.data;

/**
 * One chunk copy on this node's disk, as {@link ChunkStore#listChunksIn} and
 * {@link ChunkStore#info} see it.
 *
 * @param version the copy's chunk version (0 = unversioned)
 * @param length bytes in the copy's data file
 * @param lastModifiedMillis the newest modification time of its files
 */
public record StoredChunk(long inode, int index, long version, long length,
    long lastModifiedMillis) {}
