package io.shoalfs.server.meta;

/**
 * The writes of one state-machine apply, not yet committed. Reads through a batch see its own
 * writes first, so a multi-step operation (rename) can read what it just changed.
 */
public interface KvBatch extends KvReader, AutoCloseable {

  void put(byte[] key, byte[] value);

  void delete(byte[] key);

  /** Forgets every write made so far (a failed operation must leave no trace). */
  void clear();

  @Override
  void close();
}
