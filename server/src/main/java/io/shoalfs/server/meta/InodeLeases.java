package io.shoalfs.server.meta;

import io.shoalfs.proto.InodeRange;
import io.shoalfs.proto.LeaseInodesOp;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.SessionRecord;
import io.shoalfs.proto.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * Inode numbers leased to mount sessions (SessionRecord.inode_leases): a mount that holds a
 * directory's capability creates in it without asking, so it must name its new inodes itself,
 * with numbers nobody else will ever take. A lease takes them from the stored counter; a
 * create with one of them (MakeNodeOp.inode, SymlinkOp.inode) takes it out of the session's
 * ranges, so a number is used at most once, and they go with the session.
 *
 * <p>A session keeps at most {@link #MAX_RANGES} ranges; when one more would be kept, the
 * oldest goes (with its unused numbers: a mount that leases again has given up on them). A
 * mount that uses its numbers in order from its oldest range never splits a range; one used
 * out of order splits its range in two.
 */
final class InodeLeases {

  static final int MAX_COUNT = 65536;
  static final int MAX_RANGES = 16;

  private final InodeWriter store;
  private final Sessions sessions;
  private final KvBatch batch;

  InodeLeases(InodeWriter store, KvBatch batch) {
    this.store = store;
    this.sessions = new Sessions(batch);
    this.batch = batch;
  }

  /** Leases op.count numbers to the session of {@code client}. */
  MetaResponse lease(long client, LeaseInodesOp op) {
    if (op.getCount() < 1 || op.getCount() > MAX_COUNT) {
      return Replies.fail(Status.EINVAL, "lease " + Integer.toUnsignedString(op.getCount())
          + " inodes: between 1 and " + MAX_COUNT);
    }
    SessionRecord session = sessions.get(client);
    if (session == null) {
      return Replies.fail(Status.EINVAL, "inodes are leased to sessions only");
    }
    long start = store.reserveInodes(op.getCount());
    List<InodeRange> ranges = new ArrayList<>(session.getInodeLeasesList());
    ranges.add(InodeRange.newBuilder().setStart(start).setEnd(start + op.getCount()).build());
    put(client, session, ranges);
    return MetaResponse.newBuilder()
        .setStatus(Status.OK)
        .setInodeRangeStart(start)
        .setInodeRangeCount(op.getCount())
        .setReplication(op.getReplication())
        .setMinReplicas(op.getMinReplicas())
        .build();
  }

  /**
   * Takes {@code ino} out of the leases of {@code client}'s session for a new inode: null if it
   * was leased to it and never used, else the EINVAL answer.
   */
  MetaResponse take(long client, long ino) {
    SessionRecord session = sessions.get(client);
    List<InodeRange> ranges = session == null ? List.of() : session.getInodeLeasesList();
    int at = indexOf(ranges, ino);
    if (at < 0) {
      return Replies.fail(Status.EINVAL, "inode " + ino + " is not leased to session "
          + Long.toHexString(client) + ", or was used already");
    }
    if (store.attr(ino) != null) {
      return Replies.fail(Status.EINVAL, "inode " + ino + " is in use");
    }
    InodeRange range = ranges.get(at);
    List<InodeRange> kept = new ArrayList<>(ranges.subList(0, at));
    if (range.getStart() < ino) {
      kept.add(range.toBuilder().setEnd(ino).build());
    }
    if (ino + 1 < range.getEnd()) {
      kept.add(range.toBuilder().setStart(ino + 1).build());
    }
    kept.addAll(ranges.subList(at + 1, ranges.size()));
    put(client, session, kept);
    return null;
  }

  private static int indexOf(List<InodeRange> ranges, long ino) {
    for (int i = 0; i < ranges.size(); i++) {
      if (ranges.get(i).getStart() <= ino && ino < ranges.get(i).getEnd()) {
        return i;
      }
    }
    return -1;
  }

  private void put(long client, SessionRecord session, List<InodeRange> ranges) {
    List<InodeRange> kept = ranges.subList(Math.max(0, ranges.size() - MAX_RANGES), ranges.size());
    sessions.put(client, session.toBuilder().clearInodeLeases().addAllInodeLeases(kept).build(),
        batch);
  }
}
