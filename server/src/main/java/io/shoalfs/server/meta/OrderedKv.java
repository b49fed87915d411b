package io.shoalfs.server.meta;

import java.util.function.Function;

/**
 * The small storage SPI under the namespace: ordered keys, consistent reads, atomic batches.
 * RocksDB is the one engine today; the namespace rules never see which engine runs.
 */
public interface OrderedKv extends AutoCloseable {

  /** Runs {@code reader} against one consistent point-in-time view of the store. */
  <T> T read(Function<KvReader, T> reader);

  /** Starts a batch whose reads see committed state plus the batch's own writes. */
  KvBatch newBatch();

  /** Applies every write of {@code batch} atomically. */
  void commit(KvBatch batch);

  @Override
  void close();
}
