package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.CapabilityRecord;
import io.shoalfs.proto.SharedHolding;
import java.util.ArrayList;
import java.util.List;

/**
 * The directory capabilities in the replicated store: one CapabilityRecord per directory
 * anybody holds ('C' keys in {@link KeySchema}), naming its exclusive holder or its shared
 * holders (readers), and each holding indexed by its holder ('c' keys), so that a session's
 * capabilities are one prefix scan when it ends or keeps alive. Every write goes to both keys;
 * nothing else writes them.
 *
 * <p>A record has an exclusive holder or readers, never both: callers grant one kind only
 * when no other open session holds the other ({@link CapabilityOps}); a grant drops what a
 * session no longer open left behind.
 */
final class Capabilities {

  /** The 'c' index value: bit 0 recalled, bit 1 shared. */
  private static final byte RECALLED_BIT = 1;
  private static final byte SHARED_BIT = 2;

  private final KvReader store;

  /** Over {@code store}: a read-only view, or the batch of the entry being applied. */
  Capabilities(KvReader store) {
    this.store = store;
  }

  /** The capabilities on {@code dir}, or null when nobody holds one. */
  CapabilityRecord get(long dir) {
    byte[] bytes = store.get(KeySchema.capability(dir));
    return bytes == null ? null : parse(bytes);
  }

  /** Records {@code dir} as held exclusively by {@code holder}, replacing every other holding. */
  void grant(long holder, long dir, KvBatch batch) {
    forget(dir, batch);
    write(dir, CapabilityRecord.newBuilder().setHolder(holder).build(), batch);
  }

  /**
   * Adds {@code holder} to {@code dir}'s readers (not recalled); an exclusive holding of
   * another session goes (the caller found it stale); a holding of the holder's own, of either
   * kind, stays as it is.
   */
  void grantShared(long holder, long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    CapabilityRecord.Builder next = CapabilityRecord.newBuilder();
    if (record != null) {
      if (holdsAny(record, holder)) {
        return; // held already: as it is, recalled or not
      }
      if (record.getHolder() != 0) {
        batch.delete(KeySchema.heldCapability(record.getHolder(), dir));
      }
      for (SharedHolding reader : record.getReadersList()) {
        if (reader.getHolder() != holder) {
          next.addReaders(reader);
        }
      }
    }
    next.addReaders(SharedHolding.newBuilder().setHolder(holder));
    write(dir, next.build(), batch);
  }

  /** Drops {@code holder}'s holding of {@code dir}, of either kind; others are left alone. */
  void release(long holder, long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    if (record == null || !holdsAny(record, holder)) {
      return;
    }
    CapabilityRecord.Builder next = record.toBuilder();
    if (record.getHolder() == holder) {
      next.clearHolder().clearRecalled();
    }
    next.clearReaders();
    for (SharedHolding reader : record.getReadersList()) {
      if (reader.getHolder() != holder) {
        next.addReaders(reader);
      }
    }
    batch.delete(KeySchema.heldCapability(holder, dir));
    write(dir, next.build(), batch);
  }

  /** Drops {@code holder}'s shared holding of {@code dir}; an exclusive one stays. */
  void releaseShared(long holder, long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    if (record == null || record.getHolder() == holder
        || record.getReadersList().stream().noneMatch(r -> r.getHolder() == holder)) {
      return;
    }
    release(holder, dir, batch);
  }

  /** Drops every holding of {@code dir} (the directory is gone, or one holder takes it all). */
  void forget(long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    if (record == null) {
      return;
    }
    if (record.getHolder() != 0) {
      batch.delete(KeySchema.heldCapability(record.getHolder(), dir));
    }
    for (SharedHolding reader : record.getReadersList()) {
      batch.delete(KeySchema.heldCapability(reader.getHolder(), dir));
    }
    batch.delete(KeySchema.capability(dir));
  }

  /**
   * Marks every holding of {@code dir} recalled (who they are is {@link #holdersOf} the
   * record, for the announcement once the entry commits).
   */
  void recall(long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    if (record == null) {
      return;
    }
    CapabilityRecord.Builder next = record.toBuilder().clearReaders();
    if (record.getHolder() != 0) {
      next.setRecalled(true);
    }
    for (SharedHolding reader : record.getReadersList()) {
      next.addReaders(reader.toBuilder().setRecalled(true));
    }
    write(dir, next.build(), batch);
  }

  private static boolean holdsAny(CapabilityRecord record, long holder) {
    return record.getHolder() == holder
        || record.getReadersList().stream().anyMatch(r -> r.getHolder() == holder);
  }

  /** Every session holding {@code record}'s directory, exclusive holder first. */
  static List<Long> holdersOf(CapabilityRecord record) {
    List<Long> holders = new ArrayList<>(record.getReadersCount() + 1);
    if (record.getHolder() != 0) {
      holders.add(record.getHolder());
    }
    record.getReadersList().forEach(r -> holders.add(r.getHolder()));
    return holders;
  }

  /** Drops every holding of {@code holder} (its session ended). */
  void dropAll(long holder, KvBatch batch) {
    for (long dir : heldBy(holder, false)) {
      release(holder, dir, batch);
    }
  }

  /** The directories {@code holder} holds whose capability was recalled, in inode order. */
  List<Long> recalledOf(long holder) {
    return heldBy(holder, true);
  }

  private List<Long> heldBy(long holder, boolean recalledOnly) {
    List<Long> dirs = new ArrayList<>();
    byte[] prefix = KeySchema.heldCapabilityPrefix(holder);
    store.scan(prefix, prefix, (key, value) -> {
      if (!recalledOnly || (value[0] & RECALLED_BIT) != 0) {
        dirs.add(KeySchema.heldCapabilityDirOf(key));
      }
      return true;
    });
    return dirs;
  }

  /** Writes {@code record} and its index entries; an empty record is deleted instead. */
  private static void write(long dir, CapabilityRecord record, KvBatch batch) {
    if (record.getHolder() == 0 && record.getReadersCount() == 0) {
      batch.delete(KeySchema.capability(dir));
      return;
    }
    batch.put(KeySchema.capability(dir), record.toByteArray());
    if (record.getHolder() != 0) {
      batch.put(KeySchema.heldCapability(record.getHolder(), dir),
          new byte[] {record.getRecalled() ? RECALLED_BIT : 0});
    }
    for (SharedHolding reader : record.getReadersList()) {
      batch.put(KeySchema.heldCapability(reader.getHolder(), dir),
          new byte[] {(byte) (SHARED_BIT | (reader.getRecalled() ? RECALLED_BIT : 0))});
    }
  }

  private static CapabilityRecord parse(byte[] bytes) {
    try {
      return CapabilityRecord.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("unreadable capability record", e);
    }
  }
}
