package io.shoalfs.server.meta;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.Filter;
import org.rocksdb.Options;
import org.rocksdb.PerfLevel;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatchWithIndex;
import org.rocksdb.WriteOptions;

/**
 * {@link OrderedKv} on RocksDB. Writes are not fsynced: the Raft log is the durable record,
 * and entries the store lost in a crash are replayed from it (the applied index is written in
 * the same batch as the change, so nothing is applied twice).
 */
public final class RocksKv implements OrderedKv {

  static {
    RocksDB.loadLibrary();
  }

  /**
   * Bloom filters, in table files and in the memtable: most point reads of a mutation are for
   * keys that do not exist (the name a create takes, the reply record of a new request), and
   * without a filter each one searches the memtable and every level-0 file.
   */
  private static final double BLOOM_BITS_PER_KEY = 10;
  private static final double MEMTABLE_BLOOM_RATIO = 0.05;

  private final Path dir;
  private final Options options;
  private final Filter filter;
  private final RocksDB db;
  private final WriteOptions writeOptions = new WriteOptions();

  private RocksKv(Path dir, Options options, Filter filter, RocksDB db) {
    this.dir = dir;
    this.options = options;
    this.filter = filter;
    this.db = db;
  }

  /** Opens (creating if needed) the store in {@code dir}. */
  public static RocksKv open(Path dir) throws IOException {
    Files.createDirectories(dir);
    Filter filter = new BloomFilter(BLOOM_BITS_PER_KEY);
    Options options = new Options()
        .setCreateIfMissing(true)
        .setTableFormatConfig(new BlockBasedTableConfig().setFilterPolicy(filter))
        .setMemtablePrefixBloomSizeRatio(MEMTABLE_BLOOM_RATIO)
        .setMemtableWholeKeyFiltering(true);
    try {
      return new RocksKv(dir, options, filter, RocksDB.open(options, dir.toString()));
    } catch (RocksDBException e) {
      options.close();
      filter.close();
      throw new IOException("cannot open RocksDB at " + dir, e);
    }
  }

  public Path dir() {
    return dir;
  }

  /**
   * Writes a consistent copy of the store into {@code target}, which must not exist yet. Files
   * are hard-linked where possible, so this is cheap.
   */
  public void checkpoint(Path target) throws IOException {
    try (Checkpoint checkpoint = Checkpoint.create(db)) {
      checkpoint.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new IOException("checkpoint to " + target + " failed", e);
    }
  }

  @Override
  public <T> T read(Function<KvReader, T> reader) {
    Snapshot snapshot = db.getSnapshot();
    try (ReadOptions readOptions = new ReadOptions().setSnapshot(snapshot)) {
      return reader.apply(new SnapshotReader(readOptions));
    } finally {
      db.releaseSnapshot(snapshot);
    }
  }

  @Override
  public KvBatch newBatch() {
    return new Batch();
  }

  @Override
  public void commit(KvBatch batch) {
    try {
      db.write(writeOptions, ((Batch) batch).wb);
    } catch (RocksDBException e) {
      throw new KvException("write failed in " + dir, e);
    }
  }

  /**
   * How many deleted keys the store stepped over while {@code work} ran on this thread
   * (RocksDB's perf context); for tests of how far scans reach.
   */
  long deletedKeysSkippedBy(Runnable work) {
    db.setPerfLevel(PerfLevel.ENABLE_COUNT);
    try {
      db.getPerfContext().reset();
      work.run();
      return db.getPerfContext().getInternalDeleteSkippedCount();
    } finally {
      db.setPerfLevel(PerfLevel.DISABLE);
    }
  }

  @Override
  public void close() {
    writeOptions.close();
    db.close();
    options.close();
    filter.close();
  }

  private final class SnapshotReader implements KvReader {
    private final ReadOptions readOptions;

    SnapshotReader(ReadOptions readOptions) {
      this.readOptions = readOptions;
    }

    @Override
    public byte[] get(byte[] key) {
      try {
        return db.get(readOptions, key);
      } catch (RocksDBException e) {
        throw new KvException("read failed in " + dir, e);
      }
    }

    @Override
    public void scan(byte[] prefix, byte[] from, Visitor visitor) {
      try (Bounded bounded = new Bounded(readOptions, prefix);
          RocksIterator it = db.newIterator(bounded.options)) {
        visitAll(it, prefix, from, visitor);
      }
    }
  }

  private final class Batch implements KvBatch {
    // overwriteKey=true: the index keeps the latest write per key, which iteration needs.
    private final WriteBatchWithIndex wb = new WriteBatchWithIndex(true);
    private final ReadOptions readOptions = new ReadOptions();

    @Override
    public byte[] get(byte[] key) {
      try {
        return wb.getFromBatchAndDB(db, readOptions, key);
      } catch (RocksDBException e) {
        throw new KvException("read failed in " + dir, e);
      }
    }

    @Override
    public void scan(byte[] prefix, byte[] from, Visitor visitor) {
      try (Bounded bounded = new Bounded(readOptions, prefix);
          RocksIterator base = db.newIterator(bounded.options);
          // The bound must reach the batch's side too: unbounded, a seek past the prefix's
          // last key walks every entry the batch holds beyond it, so a journal of n rmdirs
          // (each asking whether its directory is empty) cost O(n^2) and stalled the log
          // for seconds.
          RocksIterator it = wb.newIteratorWithBase(base, bounded.options)) {
        visitAll(it, prefix, from, visitor);
      }
    }

    @Override
    public void put(byte[] key, byte[] value) {
      try {
        wb.put(key, value);
      } catch (RocksDBException e) {
        throw new KvException("batch put failed", e);
      }
    }

    @Override
    public void delete(byte[] key) {
      try {
        wb.delete(key);
      } catch (RocksDBException e) {
        throw new KvException("batch delete failed", e);
      }
    }

    @Override
    public void mark() {
      wb.setSavePoint();
    }

    @Override
    public void rollbackToMark() {
      try {
        wb.rollbackToSavePoint();
      } catch (RocksDBException e) {
        throw new KvException("batch has no mark to roll back to", e);
      }
    }

    @Override
    public void releaseMark() {
      try {
        wb.popSavePoint();
      } catch (RocksDBException e) {
        throw new KvException("batch has no mark to release", e);
      }
    }

    @Override
    public void close() {
      wb.close();
      readOptions.close();
    }
  }

  /**
   * Read options for one scan of {@code prefix}: the given ones, with an upper bound just past
   * the prefix. Without it, a scan of a prefix with no live keys left (an empty directory's
   * entries, a freed inode's xattrs) seeks on through every deleted key after the prefix until
   * it finds a live one: after a few thousand unlinks each rmdir cost ~9 ms of CPU on every
   * member.
   */
  private static final class Bounded implements AutoCloseable {
    final ReadOptions options;
    private final Slice upper;

    Bounded(ReadOptions base, byte[] prefix) {
      byte[] end = successorOf(prefix);
      this.options = new ReadOptions(base);
      this.upper = end == null ? null : new Slice(end);
      if (upper != null) {
        options.setIterateUpperBound(upper);
      }
    }

    @Override
    public void close() {
      options.close();
      if (upper != null) {
        upper.close();
      }
    }
  }

  /** The smallest key above every key that starts with {@code prefix}; null if there is none. */
  static byte[] successorOf(byte[] prefix) {
    for (int i = prefix.length - 1; i >= 0; i--) {
      if (prefix[i] != (byte) 0xFF) {
        byte[] end = Arrays.copyOf(prefix, i + 1);
        end[i]++;
        return end;
      }
    }
    return null;
  }

  private static void visitAll(RocksIterator it, byte[] prefix, byte[] from, KvReader.Visitor visitor) {
    it.seek(Arrays.compareUnsigned(from, prefix) > 0 ? from : prefix);
    while (it.isValid()) {
      byte[] key = it.key();
      if (!startsWith(key, prefix) || !visitor.visit(key, it.value())) {
        return;
      }
      it.next();
    }
  }

  static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }
}
