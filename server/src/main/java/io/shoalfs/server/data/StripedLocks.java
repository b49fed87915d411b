package io.shoalfs.server.data;

import java.util.List;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A fixed set of read-write locks shared out by chunk key: one lock per chunk would grow
 * without bound, one lock for all would serialize every FUSE thread. Two chunks may share a
 * stripe; that only costs some parallelism, never correctness.
 */
final class StripedLocks {
  private final ReadWriteLock[] stripes;

  StripedLocks(int count) {
    if (Integer.bitCount(count) != 1) {
      throw new IllegalArgumentException("stripe count must be a power of two: " + count);
    }
    stripes = new ReadWriteLock[count];
    for (int i = 0; i < count; i++) {
      stripes[i] = new ReentrantReadWriteLock();
    }
  }

  ReadWriteLock of(ChunkKey key) {
    return stripes[stripe(key)];
  }

  /**
   * The stripes of two chunks, each once, in stripe order: whoever takes two locks takes them
   * in this order, so two such callers never wait on each other crosswise.
   */
  List<ReadWriteLock> ofBoth(ChunkKey a, ChunkKey b) {
    int x = stripe(a);
    int y = stripe(b);
    return x == y ? List.of(stripes[x])
        : List.of(stripes[Math.min(x, y)], stripes[Math.max(x, y)]);
  }

  private int stripe(ChunkKey key) {
    // Spread the bits: inodes are sequential and indexes small, so the low bits alone repeat.
    long h = key.inode() * 0x9E3779B97F4A7C15L + key.index();
    h ^= h >>> 29;
    return (int) h & (stripes.length - 1);
  }
}
