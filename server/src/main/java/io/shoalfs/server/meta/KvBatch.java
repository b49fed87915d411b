package io.shoalfs.server.meta;

/**
 * The writes of one state-machine apply, not yet committed. Reads through a batch see its own
 * writes first, so a multi-step operation (rename) can read what it just changed.
 */
public interface KvBatch extends KvReader, AutoCloseable {

  void put(byte[] key, byte[] value);

  void delete(byte[] key);

  /**
   * Marks this point: {@link #rollbackToMark} forgets every write after it. Marks nest, so an
   * operation can undo its own writes inside a batch that holds other operations' writes.
   */
  void mark();

  /** Forgets every write since the newest mark, and the mark. */
  void rollbackToMark();

  /** Drops the newest mark, keeping the writes. */
  void releaseMark();

  @Override
  void close();
}
