package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import java.util.OptionalLong;

/**
 * One open file handle: which inode, with which open flags, and how far this handle has
 * written that the metadata does not know yet (Alluxio {@code FuseFileEntry}). Written data
 * becomes part of the file's size only when a {@code CommitWriteOp} records its end.
 */
final class OpenFile {
  /** Linux O_APPEND. */
  static final int O_APPEND = 02000;
  /** Linux O_SYNC (includes O_DSYNC). */
  static final int O_DSYNC = 010000;

  private final long fh;
  private final long inode;
  private final int flags;
  private final Caller opener;
  private final Object appendLock = new Object();
  private final PendingWrites pending = new PendingWrites();
  private long writtenEnd;
  private boolean readSeen;
  /** The lock owner of this handle's flock, or 0 (released with the handle). */
  private long flockOwner;
  private boolean dirty;
  /** Explicit times waiting for this handle's commit, or null. */
  private PendingTimes times;

  OpenFile(long fh, long inode, int flags, Caller opener) {
    this.fh = fh;
    this.inode = inode;
    this.flags = flags;
    this.opener = opener;
  }

  long fh() {
    return fh;
  }

  long inode() {
    return inode;
  }

  int flags() {
    return flags;
  }

  /**
   * Who opened the handle. Commits are made in the writer's name: the context of a release
   * is not reliably the writing process.
   */
  Caller opener() {
    return opener;
  }

  /** What this handle wrote that may not have reached the servers yet ({@link WriteBehind}). */
  PendingWrites pending() {
    return pending;
  }

  /** Held by an O_APPEND write from "where is the end" until its end is recorded. */
  Object appendLock() {
    return appendLock;
  }

  boolean isAppend() {
    return (flags & O_APPEND) != 0;
  }

  boolean isSync() {
    return (flags & O_DSYNC) != 0;
  }

  /** Data up to {@code end} is on the data plane but not yet committed to metadata. */
  synchronized void recordWrite(long end) {
    writtenEnd = Math.max(writtenEnd, end);
    dirty = true;
  }

  /** The highest end offset written through this handle (0 before any write). */
  synchronized long writtenEnd() {
    return writtenEnd;
  }

  synchronized boolean isDirty() {
    return dirty;
  }

  /**
   * The end offset to commit, clearing the dirty flag; empty when there is nothing to commit.
   * A caller whose commit then fails must {@link #markDirty()} again.
   */
  synchronized OptionalLong takeDirtyEnd() {
    if (!dirty) {
      return OptionalLong.empty();
    }
    dirty = false;
    return OptionalLong.of(writtenEnd);
  }

  /** True the first time only: this handle's first read (for the relatime atime update). */
  synchronized boolean firstRead() {
    boolean first = !readSeen;
    readSeen = true;
    return first;
  }

  synchronized void flockedAs(long owner) {
    flockOwner = owner;
  }

  synchronized long flockOwner() {
    return flockOwner;
  }

  synchronized void markDirty() {
    dirty = true;
  }

  /**
   * Keeps {@code set} for this handle's commit when the handle has written something it has
   * not committed (a commit is coming anyway), and set by the same caller as times already
   * waiting; false otherwise (the caller sends them now).
   */
  synchronized boolean holdTimes(PendingTimes set) {
    if (!dirty || (times != null && !times.caller().equals(set.caller()))) {
      return false;
    }
    times = times == null ? set : times.then(set);
    return true;
  }

  /** The times waiting for the commit, taken (null if none). */
  synchronized PendingTimes takeTimes() {
    PendingTimes t = times;
    times = null;
    return t;
  }

  /** Puts back times whose op failed; any set meanwhile stay over them. */
  synchronized void restoreTimes(PendingTimes failed) {
    times = times == null ? failed : failed.then(times);
  }

  /** A write through any handle of the file: a waiting mtime is overtaken by it. */
  synchronized void writtenSinceTimes() {
    if (times != null) {
      times = times.withoutMtime();
    }
  }

  /** {@code attr} with the times waiting here, as this mount shows it. */
  synchronized Attr shownWithTimes(Attr attr) {
    return times == null ? attr : times.shownOn(attr);
  }

  /** The file was cut to {@code size}: a later commit must not grow it back. */
  synchronized void clampTo(long size) {
    writtenEnd = Math.min(writtenEnd, size);
  }
}
