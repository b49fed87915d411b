package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.SetAttrOp;

/**
 * Explicit times (utimensat with given values, as `cp -a`, tar and rsync set them) that a
 * handle holds until it commits what it wrote: they travel in the commit's own log entry
 * (SetAttrOp.commit), or in the next setattr of the file, which carries that commit. A file
 * copied by `cp -a` (written, times set, mode set, closed) then costs one log entry after its
 * create instead of two.
 *
 * <p>Only explicit times wait: UTIME_NOW is resolved by the metadata service when it applies
 * the op, and its permission rule (write access suffices) differs from an explicit time's (the
 * owner only). Other mounts see the times when they see the data, at close (close-to-open);
 * this mount shows them at once ({@link #shownOn}). The kernel has already checked the caller's
 * right to set them (default_permissions); the service checks again when they arrive.
 *
 * @param caller who set them (the op is sent in their name)
 * @param valid ATIME and/or MTIME
 */
record PendingTimes(Caller caller, int valid, long atimeNs, long mtimeNs) {
  private static final int EXPLICIT = SetAttrBits.ATIME | SetAttrBits.MTIME;

  /** Whether {@code op} sets explicit times and nothing else. */
  static boolean canWait(SetAttrOp.Builder op) {
    return op.getValid() != 0 && (op.getValid() & ~EXPLICIT) == 0;
  }

  static PendingTimes of(Caller caller, SetAttrOp.Builder op) {
    if (!canWait(op)) {
      throw new IllegalArgumentException("not explicit times only: valid=" + op.getValid());
    }
    return new PendingTimes(caller, op.getValid(), op.getAtimeNs(), op.getMtimeNs());
  }

  /** These times with {@code later}'s set over them, field by field. */
  PendingTimes then(PendingTimes later) {
    boolean atime = (later.valid & SetAttrBits.ATIME) != 0;
    boolean mtime = (later.valid & SetAttrBits.MTIME) != 0;
    return new PendingTimes(later.caller, valid | later.valid,
        atime ? later.atimeNs : atimeNs, mtime ? later.mtimeNs : mtimeNs);
  }

  /** What is left once a write moved mtime on (a write after utimens wins); null if nothing. */
  PendingTimes withoutMtime() {
    int left = valid & ~SetAttrBits.MTIME;
    return left == 0 ? null : new PendingTimes(caller, left, atimeNs, 0);
  }

  /** Adds these times to {@code op} where it sets no time of its own (a later op wins). */
  void addTo(SetAttrOp.Builder op) {
    if ((valid & SetAttrBits.ATIME) != 0
        && (op.getValid() & (SetAttrBits.ATIME | SetAttrBits.ATIME_NOW)) == 0) {
      op.setValid(op.getValid() | SetAttrBits.ATIME).setAtimeNs(atimeNs);
    }
    if ((valid & SetAttrBits.MTIME) != 0
        && (op.getValid() & (SetAttrBits.MTIME | SetAttrBits.MTIME_NOW)) == 0) {
      op.setValid(op.getValid() | SetAttrBits.MTIME).setMtimeNs(mtimeNs);
    }
  }

  /** {@code attr} as this mount shows it until the times are sent. */
  Attr shownOn(Attr attr) {
    Attr.Builder b = attr.toBuilder();
    if ((valid & SetAttrBits.ATIME) != 0) {
      b.setAtimeNs(atimeNs);
    }
    if ((valid & SetAttrBits.MTIME) != 0) {
      b.setMtimeNs(mtimeNs);
    }
    return b.build();
  }
}
