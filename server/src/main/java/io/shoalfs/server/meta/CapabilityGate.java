package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.CapabilityRecord;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;

/**
 * Keeps one client's request out of the directories another session holds the capability of:
 * the holder does their namespace work itself and tells the group only when it flushes its
 * journal, so what the store says about such a directory may be out of date, and a change to
 * it would race the holder's. Every read and mutation asks here for each directory it touches
 * (one store get each), at the point where it has found the directory, before it reads its
 * entries or changes anything.
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
   * Null if the client may touch directory {@code dir}; else the CAP_HELD answer naming the
   * session in the way.
   */
  MetaResponse refusal(long dir) {
    if (client == 0) {
      return null;
    }
    long holder = otherHolder(dir);
    if (holder == 0) {
      return null;
    }
    return MetaResponse.newBuilder()
        .setStatus(Status.CAP_HELD)
        .setError("directory " + dir + " is held by session " + Long.toHexString(holder))
        .setCapHolder(holder)
        .setCapDir(dir)
        .build();
  }

  /** As {@link #refusal(long)} for an inode whose attributes are known: only directories. */
  MetaResponse refusal(Attr attr) {
    return attr.getType() == FileType.DIRECTORY ? refusal(attr.getInode()) : null;
  }

  /** The open session other than this client's that holds {@code dir}'s capability, or 0. */
  private long otherHolder(long dir) {
    if (client == 0) {
      return 0;
    }
    CapabilityRecord record = new Capabilities(store).get(dir);
    if (record == null || record.getHolder() == client
        || new Sessions(store).get(record.getHolder()) == null) {
      return 0;
    }
    return record.getHolder();
  }
}
