package io.shoalfs.client;

import io.shoalfs.proto.AppendOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;

/**
 * Open files of a mount: create, open, read, write, truncate, flush, fsync and release, through
 * handles ({@code fh}) from {@link FileHandleTable}. Writes gather in {@link WriteBehind} and
 * are committed by {@link WriteCommitter}; reads drain them first and may be served by
 * {@link ReadAhead}.
 */
public final class MountFiles {
  private static final int O_EXCL = 0200;
  private static final int FALLOC_FL_KEEP_SIZE = 1;

  private final MountParts parts;
  private final MountNamespace namespace;
  private final MountLocks locks;

  MountFiles(MountParts parts, MountNamespace namespace, MountLocks locks) {
    this.parts = parts;
    this.namespace = namespace;
    this.locks = locks;
  }

  /** Creates a regular file at {@code path} and opens it with open(2) {@code flags}; its handle. */
  public long create(CallContext who, String path, long mode, int flags) throws RpcException {
    Caller caller = who.caller();
    Attr attr;
    try {
      // Created to be written: chunk 0 is placed in the create's own log entry, so the
      // first write finds its location here instead of allocating it.
      MetaResponse made =
          namespace.makeNode(who, caller, path, FileType.REGULAR, mode, 0, true);
      attr = made.getAttr();
      parts.locations.created(attr.getInode());
      parts.locations.remember(made.getLocationsList());
    } catch (RpcException e) {
      // Someone else created it since the kernel looked: without O_EXCL, open theirs.
      if (e.status() != Status.EEXIST || (flags & O_EXCL) != 0) {
        throw e;
      }
      attr = parts.resolver.attr(caller, path);
      parts.locations.forget(attr.getInode());
    }
    return parts.handles.open(attr.getInode(), flags, caller).fh();
  }

  /** Opens the file at {@code path} with open(2) {@code flags}; returns its handle. */
  public long open(CallContext who, String path, int flags) throws RpcException {
    Caller caller = who.caller();
    parts.hidden.forgetJustHidden(who.pid());
    // The name resolved afresh, not a cached inode: close-to-open (another mount may have
    // renamed or removed it), and writes to an inode deleted meanwhile would vanish.
    MetaResponse now = parts.resolver.resolveNow(caller, path, ChunkLocations.LOOKAHEAD);
    Attr attr = now.getAttr();
    // Close-to-open: this open sees where the file's chunks are now (the first few came
    // with the resolve). A file held here is nobody else's: what this mount knows is current.
    if (!parts.meta.writeBack().holdsLocally(attr.getInode())) {
      parts.locations.forget(attr.getInode());
      parts.locations.remember(now.getLocationsList());
    }
    return parts.handles.open(attr.getInode(), flags, caller).fh();
  }

  /**
   * Reads up to {@code size} bytes at {@code offset} through {@code fh} into {@code dst};
   * returns how many bytes of the file that is (fewer only at its end).
   */
  public int read(CallContext who, long fh, long offset, int size, ReadTarget dst)
      throws RpcException {
    OpenFile file = parts.handles.get(fh);
    Caller caller = who.caller();
    long inode = file.inode();
    if (file.firstRead()) {
      parts.accessNotes.readStarted(caller, inode);
    }
    // Drains this mount's pending writes to the inode first: a read sees every write before it.
    return parts.readAhead.read(file, offset, size, dst,
        () -> parts.handles.effectiveSize(inode, parts.meta.cachedAttr(caller, inode).getSize()));
  }

  /** Writes the first {@code n} bytes of {@code src} at {@code offset} through {@code fh}; n. */
  public int write(long fh, long offset, WriteSource src, int n) throws RpcException {
    OpenFile file = parts.handles.get(fh);
    if (file.isAppend() || file.isSync()) {
      // Straight through, after whatever any handle of the file still buffers.
      parts.writeBehind.drainInode(file.inode());
    }
    if (file.isAppend()) {
      appendWrite(file, src, n);
    } else if (file.isSync()) {
      parts.io.write(file.inode(), offset, src, n, true);
      file.recordWrite(offset + n);
    } else {
      parts.writeBehind.write(file, offset, src, n);
      file.recordWrite(offset + n);
    }
    parts.written(file.inode());
    if (file.isSync()) {
      parts.committer.commit(file);
    }
    return n;
  }

  /**
   * O_APPEND: the metadata service reserves the bytes at the end in one step, so appenders on
   * this and other mounts never write at the same offset. Writes of this mount that the
   * metadata does not know yet are committed first, so the end lies past them.
   */
  private void appendWrite(OpenFile file, WriteSource src, int n) throws RpcException {
    long inode = file.inode();
    for (OpenFile other : parts.handles.openFiles(inode)) {
      parts.committer.commit(other);
    }
    long at = parts.meta.call(file.opener(), MetaRequest.newBuilder()
        .setAppend(AppendOp.newBuilder()
            .setInode(inode)
            .setLength(n)
            .setNowNs(NanoTimes.nowNs()))).getOffset();
    parts.io.write(inode, at, src, n, file.isSync());
  }

  public void truncate(CallContext who, String path, long size) throws RpcException {
    Caller caller = who.caller();
    parts.resolver.withInode(caller, path, inode -> {
      parts.writeBehind.drainInode(inode);
      parts.truncator.truncate(caller, inode, size);
      parts.written(inode);
      return 0;
    });
  }

  public void ftruncate(CallContext who, long fh, long size) throws RpcException {
    long inode = parts.handles.get(fh).inode();
    parts.writeBehind.drainInode(inode);
    parts.truncator.truncate(who.caller(), inode, size);
    parts.written(inode);
  }

  /**
   * fallocate(2) mode 0 grows the file to offset + length (ShoalFS reserves no space ahead: a
   * later write may still meet ENOSPC); FALLOC_FL_KEEP_SIZE changes nothing. Punching holes and
   * zeroing ranges are not supported (EOPNOTSUPP, as on file systems without them).
   */
  public void fallocate(CallContext who, long fh, int mode, long offset, long length)
      throws RpcException {
    if (offset < 0 || length <= 0) {
      throw new RpcException(Status.EINVAL, "bad fallocate range");
    }
    if (mode == FALLOC_FL_KEEP_SIZE) {
      return;
    }
    if (mode != 0) {
      throw new RpcException(Status.ENOTSUP, "fallocate mode " + mode + " is not supported");
    }
    Caller caller = who.caller();
    OpenFile file = parts.handles.get(fh);
    long inode = file.inode();
    parts.writeBehind.drainInode(inode);
    for (OpenFile open : parts.handles.openFiles(inode)) {
      parts.committer.commit(open);
    }
    long end = Math.addExact(offset, length);
    if (end > parts.meta.getAttr(caller, inode).getSize()) {
      parts.truncator.truncate(caller, inode, end);
      parts.written(inode);
    }
  }

  /** close(2) of one descriptor: what it wrote is committed, and journal failures reported. */
  public void flush(long fh) throws RpcException {
    parts.committer.commit(parts.handles.get(fh));
    parts.reportJournalFailure();
  }

  /** The file's data, and everything this mount did before (its journal too), made durable. */
  public void fsync(long fh) throws RpcException {
    parts.committer.fsync(parts.handles.get(fh));
    parts.meta.writeBack().flush();
    parts.reportJournalFailure();
  }

  /**
   * The handle's last close: commits what it wrote, drops its buffers, read-ahead and flock,
   * and releases its inode if it was an orphan whose last handle this was.
   */
  public void release(long fh) throws RpcException {
    OpenFile file = parts.handles.get(fh);
    try {
      parts.committer.commit(file);
    } finally {
      parts.writeBehind.discard(file);
      parts.readAhead.release(fh);
      parts.handles.release(fh);
      locks.releaseFlock(file);
      if (parts.handles.openFiles(file.inode()).isEmpty()
          && parts.hidden.takeReleaseLater(file.inode())) {
        parts.releaseOrphan(file.opener(), file.inode());
      }
    }
  }
}
