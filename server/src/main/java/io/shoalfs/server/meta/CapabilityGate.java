package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.CapabilityRecord;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.SharedHolding;
import io.shoalfs.proto.Status;

/**
 * Keeps one client's request out of the directories another session holds the capability of.
 * An exclusive holder does the directory's namespace work itself and tells the group only when
 * it flushes its journal, so what the store says about such a directory may be out of date,
 * and a change to it would race the holder's: every read and mutation is kept out
 * ({@link #refusal}). Shared holders keep the directory's entries and its covered children's
 * attributes (Attr.parent) as they were when they took it: reads go on, changes are kept out
 * until they gave it back ({@link #changeRefusal}). Every request asks here for each directory
 * it touches (one store get each), at the point where it has found the directory, before it
 * reads its entries or changes anything.
 *
 * <p>A capability whose holder's session is no longer open is stale and stands in nobody's
 * way. Requests the servers make themselves (client id 0) are never kept out: the leader's
 * housekeeping must not wait on a mount.
 */
final class CapabilityGate {

  /** The gate of server-made requests: every directory is open to them. */
  static final CapabilityGate OPEN = new CapabilityGate(0, null);

  private final long client;
  private final KvReader store;

  private CapabilityGate(long client, KvReader store) {
    this.client = client;
    this.store = store;
  }

  /** The gate for requests of {@code client} over {@code store} (the entry's batch, or a view). */
  static CapabilityGate of(long client, KvReader store) {
    return client == 0 ? OPEN : new CapabilityGate(client, store);
  }

  /**
   * Null if the client may read directory {@code dir} (or touch it in a way shared holders do
   * not see); else the CAP_HELD answer naming the exclusive holder in the way.
   */
  MetaResponse refusal(long dir) {
    return inTheWay(dir, false);
  }

  /** As {@link #refusal(long)} for an inode whose attributes are known: only directories. */
  MetaResponse refusal(Attr attr) {
    return attr.getType() == FileType.DIRECTORY ? refusal(attr.getInode()) : null;
  }

  /**
   * Null if the client may change directory {@code dir}'s entries or attributes; else the
   * CAP_HELD answer naming a session in the way, exclusive or shared holder.
   */
  MetaResponse changeRefusal(long dir) {
    return inTheWay(dir, true);
  }

  /**
   * Null if the client may change {@code attr}'s inode: a directory's own holders, or the
   * holders of the directory whose capability covers a non-directory's attributes, stand in the
   * way (see {@link #changeRefusal(long)}).
   */
  MetaResponse changeRefusal(Attr attr) {
    if (attr.getType() == FileType.DIRECTORY) {
      return changeRefusal(attr.getInode());
    }
    return attr.getParent() == 0 ? null : changeRefusal(attr.getParent());
  }

  private MetaResponse inTheWay(long dir, boolean readersToo) {
    if (client == 0) {
      return null;
    }
    CapabilityRecord record = new Capabilities(store).get(dir);
    if (record == null) {
      return null;
    }
    if (isOther(record.getHolder())) {
      return held(dir, record.getHolder(), false);
    }
    if (readersToo) {
      for (SharedHolding reader : record.getReadersList()) {
        if (isOther(reader.getHolder())) {
          return held(dir, reader.getHolder(), true);
        }
      }
    }
    return null;
  }

  /** Whether {@code holder} is an open session other than this client's. */
  private boolean isOther(long holder) {
    return holder != 0 && holder != client && new Sessions(store).get(holder) != null;
  }

  private static MetaResponse held(long dir, long holder, boolean shared) {
    return MetaResponse.newBuilder()
        .setStatus(Status.CAP_HELD)
        .setError("directory " + dir + " is held by session " + Long.toHexString(holder)
            + (shared ? " (shared)" : ""))
        .setCapHolder(holder)
        .setCapDir(dir)
        .setCapShared(shared)
        .build();
  }
}
