package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReleaseOrphanOp;
import io.shoalfs.proto.SessionRecord;
import io.shoalfs.proto.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * Mount sessions in the replicated store ('S' keys in {@link KeySchema}). A mount opens one
 * before its first mutation; its reply-table records, its locks and its orphans (inodes it keeps
 * open with no link left) live and die with it. What this class decides, deterministically from
 * the store and the request:
 *
 * <ul>
 *   <li>a tracked request (client id and sequence number) from a client without an open session
 *       is refused with SESSION_EXPIRED: its replies are gone, so a retry could be applied twice;
 *   <li>a retry whose sequence number lies a whole reply window behind the newest one applied
 *       is refused with RETRY_TOO_OLD, never applied again (its reply may be gone);
 *   <li>a session ends by the mount's close or by the leader's expiry, and takes its replies,
 *       orphans, directory capabilities and leased inode numbers with it (the orphans are freed,
 *       their data reclaimed like any unlinked file's).
 * </ul>
 *
 * <p>Expiry is measured in log progress, not in wall-clock time that apply cannot read: every
 * mutation of a client records its answer stamp, and the leader ends the sessions last seen
 * before a stamp it saw the session TTL ago (see {@code SessionReaper}).
 */
final class Sessions {

  private final KvReader store;

  /** Over {@code store}: a read-only view, or the batch of the entry being applied. */
  Sessions(KvReader store) {
    this.store = store;
  }

  /** The session record of {@code clientId}, or null when it has no open session. */
  SessionRecord get(long clientId) {
    byte[] bytes = store.get(KeySchema.session(clientId));
    return bytes == null ? null : parse(bytes);
  }

  /**
   * Refused, or null when the request may run: the session must be open, and the request no
   * older than the reply window (a reply within the window was looked up before this).
   */
  static MetaResponse refusal(long clientId, long seq, SessionRecord session) {
    if (session == null) {
      return Replies.fail(Status.SESSION_EXPIRED, "session " + Long.toHexString(clientId)
          + " is not open (closed, or expired after the mount went silent): open a new one");
    }
    if (seq + KeySchema.REPLY_WINDOW <= session.getMaxSeq()) {
      return Replies.fail(Status.RETRY_TOO_OLD, "request " + seq + " of session "
          + Long.toHexString(clientId) + " is older than the reply window (newest "
          + session.getMaxSeq() + "); it may have been applied, so it is not applied again");
    }
    return null;
  }

  /** Records a tracked request applied at {@code stamp}. */
  void applied(long clientId, long seq, long stamp, KvBatch batch) {
    SessionRecord session = get(clientId);
    if (session == null) {
      return; // none to record in: apply refuses such a request before it runs
    }
    put(clientId, session.toBuilder()
        .setSeenStamp(stamp)
        .setMaxSeq(Math.max(session.getMaxSeq(), seq))
        .build(), batch);
  }

  /**
   * Opens the session (or refreshes it: a resent open), and every keep-alive or lock call: the
   * mount's clock, which lock liveness compares.
   */
  void seenAt(long clientId, long nowNs, KvBatch batch) {
    SessionRecord session = get(clientId);
    SessionRecord.Builder record = session == null ? SessionRecord.newBuilder() : session.toBuilder();
    put(clientId, record.setSeenNs(nowNs).build(), batch);
  }

  /** Whether the client was seen within {@code ttlNs} of {@code nowNs} (its own clock). */
  boolean seenWithin(long clientId, long nowNs, long ttlNs) {
    SessionRecord session = get(clientId);
    return session != null && nowNs - session.getSeenNs() <= ttlNs;
  }

  /**
   * Ends a session: its replies go, its orphans are freed (through {@code writes}, as their
   * last close would), its directory capabilities are dropped, the record goes (with the inode
   * numbers leased to it).
   */
  void end(long clientId, NamespaceWrites writes, KvBatch batch) {
    keys(KeySchema.replyPrefix(clientId)).forEach(batch::delete);
    new Capabilities(batch).dropAll(clientId, batch);
    for (byte[] orphan : keys(KeySchema.orphanPrefix(clientId))) {
      writes.releaseOrphan(clientId,
          ReleaseOrphanOp.newBuilder().setInode(KeySchema.orphanInodeOf(orphan)).build(), batch);
    }
    batch.delete(KeySchema.session(clientId));
  }

  /** Up to {@code limit} sessions last seen before {@code stamp}. */
  List<Long> seenBefore(long stamp, int limit) {
    List<Long> out = new ArrayList<>();
    store.scan(KeySchema.sessionPrefix(), KeySchema.sessionPrefix(), (k, v) -> {
      if (parse(v).getSeenStamp() < stamp) {
        out.add(KeySchema.inodeOf(k));
      }
      return out.size() < limit;
    });
    return out;
  }

  private List<byte[]> keys(byte[] prefix) {
    List<byte[]> out = new ArrayList<>();
    store.scan(prefix, prefix, (k, v) -> out.add(k));
    return out;
  }

  /** Writes the session record of {@code clientId}. */
  void put(long clientId, SessionRecord record, KvBatch batch) {
    batch.put(KeySchema.session(clientId), record.toByteArray());
  }

  private static SessionRecord parse(byte[] bytes) {
    try {
      return SessionRecord.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("unreadable session record", e);
    }
  }
}
