package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.CapabilityRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The directory capabilities in the replicated store: one CapabilityRecord per held directory
 * ('C' keys in {@link KeySchema}) and the same capability indexed by its holder ('c' keys), so
 * that a session's capabilities are one prefix scan when it ends or keeps alive. Every write
 * goes to both keys; nothing else writes them.
 */
final class Capabilities {

  private static final byte[] NOT_RECALLED = {0};
  private static final byte[] RECALLED = {1};

  private final KvReader store;

  /** Over {@code store}: a read-only view, or the batch of the entry being applied. */
  Capabilities(KvReader store) {
    this.store = store;
  }

  /** The capability on {@code dir}, or null when nobody holds one. */
  CapabilityRecord get(long dir) {
    byte[] bytes = store.get(KeySchema.capability(dir));
    return bytes == null ? null : parse(bytes);
  }

  /** Records {@code dir} as held by {@code holder}, not recalled, replacing any other record. */
  void grant(long holder, long dir, KvBatch batch) {
    forget(dir, batch);
    put(CapabilityRecord.newBuilder().setHolder(holder).build(), dir, batch);
  }

  /** Drops the capability on {@code dir} if {@code holder} holds it; others are left alone. */
  void release(long holder, long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    if (record != null && record.getHolder() == holder) {
      delete(record, dir, batch);
    }
  }

  /** Drops the capability on {@code dir}, whoever holds it (the directory is gone). */
  void forget(long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    if (record != null) {
      delete(record, dir, batch);
    }
  }

  /** Marks the capability on {@code dir} recalled; returns its holder, or 0 if none is held. */
  long recall(long dir, KvBatch batch) {
    CapabilityRecord record = get(dir);
    if (record == null) {
      return 0;
    }
    put(record.toBuilder().setRecalled(true).build(), dir, batch);
    return record.getHolder();
  }

  /** Drops every capability {@code holder} holds (its session ended). */
  void dropAll(long holder, KvBatch batch) {
    for (long dir : heldBy(holder, false)) {
      batch.delete(KeySchema.capability(dir));
      batch.delete(KeySchema.heldCapability(holder, dir));
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
      if (!recalledOnly || value[0] != 0) {
        dirs.add(KeySchema.heldCapabilityDirOf(key));
      }
      return true;
    });
    return dirs;
  }

  private static void put(CapabilityRecord record, long dir, KvBatch batch) {
    batch.put(KeySchema.capability(dir), record.toByteArray());
    batch.put(KeySchema.heldCapability(record.getHolder(), dir),
        record.getRecalled() ? RECALLED : NOT_RECALLED);
  }

  private static void delete(CapabilityRecord record, long dir, KvBatch batch) {
    batch.delete(KeySchema.capability(dir));
    batch.delete(KeySchema.heldCapability(record.getHolder(), dir));
  }

  private static CapabilityRecord parse(byte[] bytes) {
    try {
      return CapabilityRecord.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("unreadable capability record", e);
    }
  }
}
