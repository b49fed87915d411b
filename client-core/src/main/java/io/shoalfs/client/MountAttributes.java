package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.rpc.RpcException;

/** stat, access, chmod, chown, utimens and statfs of a mount, by path (or handle). */
public final class MountAttributes {
  private static final int NAME_MAX = 255;
  /** There is no inode limit; statfs reports this many free so that df -i shows a use. */
  private static final long FREE_INODES = 1L << 32;

  private final MountParts parts;

  MountAttributes(MountParts parts) {
    this.parts = parts;
  }

  /** What stat shows of {@code path}, given to {@code out}. */
  public void getattr(CallContext who, String path, StatSink out) throws RpcException {
    show(out, parts.hidden.asLibfuseSees(path, parts.resolver.attr(who.caller(), path)));
  }

  /**
   * What fstat shows through handle {@code fh} (0: none, then by {@code path}); {@code path}
   * may be null when the name is gone.
   */
  public void fgetattr(CallContext who, String path, long fh, StatSink out) throws RpcException {
    Caller caller = who.caller();
    // By handle: an open file stays reachable after its name is unlinked.
    Attr attr = fh != 0
        ? parts.meta.cachedAttr(caller, parts.handles.get(fh).inode())
        : parts.resolver.attr(caller, path);
    show(out, path == null ? attr : parts.hidden.asLibfuseSees(path, attr));
  }

  /** Existence only (F_OK); permission checks are the kernel's (default_permissions) for now. */
  public void access(CallContext who, String path) throws RpcException {
    parts.resolver.attr(who.caller(), path);
  }

  public void chmod(CallContext who, String path, long mode) throws RpcException {
    setAttr(who, path, SetAttrOp.newBuilder()
        .setValid(SetAttrBits.MODE)
        .setMode((int) mode & FileModes.PERMISSION_BITS));
  }

  /** chown(2): an id of -1 is left alone. */
  public void chown(CallContext who, String path, long uid, long gid) throws RpcException {
    SetAttrOp.Builder op = SetAttrOp.newBuilder();
    int valid = 0;
    if (!isUnchanged(uid)) {
      valid |= SetAttrBits.UID;
      op.setUid((int) uid);
    }
    if (!isUnchanged(gid)) {
      valid |= SetAttrBits.GID;
      op.setGid((int) gid);
    }
    if (valid != 0) {
      setAttr(who, path, op.setValid(valid));
    }
  }

  /**
   * utimensat(2): each time as seconds and nanoseconds, or {@link NanoTimes#UTIME_NOW} /
   * {@link NanoTimes#UTIME_OMIT} as its nanoseconds.
   */
  public void utimens(CallContext who, String path, long atimeSec, long atimeNsec,
      long mtimeSec, long mtimeNsec) throws RpcException {
    long nowNs = NanoTimes.nowNs();
    SetAttrOp.Builder op =
        NanoTimes.utimens(0, atimeSec, atimeNsec, mtimeSec, mtimeNsec, nowNs);
    if (op.getValid() != 0) {
      setAttr(who, path, op);
    }
  }

  /** The data nodes' space and the namespace's inode count. */
  public FsSpace statfs(CallContext who) throws RpcException {
    DataResponse space = parts.data.statFs();
    long inodes = parts.meta.call(who.caller(), MetaRequest.newBuilder()
        .setNamespaceStats(NamespaceStatsOp.getDefaultInstance())).getInodeCount();
    return new FsSpace(space.getTotalBytes(), space.getFreeBytes(), inodes, FREE_INODES,
        NAME_MAX);
  }

  /** chown(2) leaves an id alone when it is -1 (as a 32-bit or as a sign-extended value). */
  static boolean isUnchanged(long id) {
    return id == -1 || (id & 0xFFFF_FFFFL) == 0xFFFF_FFFFL;
  }

  private void show(StatSink out, Attr attr) throws RpcException {
    out.accept(parts.accessNotes.shown(parts.handles.shown(attr)),
        parts.handles.effectiveSize(attr.getInode(), attr.getSize()));
  }

  private void setAttr(CallContext who, String path, SetAttrOp.Builder op) throws RpcException {
    Caller caller = who.caller();
    op.setNowNs(NanoTimes.nowNs());
    // `cp -a` writes, sets the times, then closes: what this mount has not committed yet is
    // committed with the setattr, not after it (a later commit would move mtime).
    parts.resolver.withInode(caller, path, inode ->
        parts.committer.setAttr(caller, op.setInode(inode), parts.handles.openFiles(inode)));
  }
}
