package io.shoalfs.client;

import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.LinkOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadLinkOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SymlinkOp;
import io.shoalfs.proto.UnlinkOp;
import io.shoalfs.rpc.RpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names of a mount: make, link, remove and rename them, by path. A file removed or renamed
 * over while open here keeps its inode as this mount's orphan ({@link HiddenFiles}); its data
 * is not deleted here: the server's garbage collector reclaims the data of inodes whose last
 * link went away.
 */
public final class MountNamespace {
  private static final Logger LOG = LoggerFactory.getLogger(MountNamespace.class);

  private final MountParts parts;

  MountNamespace(MountParts parts) {
    this.parts = parts;
  }

  public void mkdir(CallContext who, String path, long mode) throws RpcException {
    makeNode(who, who.caller(), path, FileType.DIRECTORY, mode, 0, false);
  }

  /** mknod(2): the file type is in {@code mode}'s type bits (none: a regular file). */
  public void mknod(CallContext who, String path, long mode, long rdev) throws RpcException {
    makeNode(who, who.caller(), path, FileModes.typeOf(mode), mode, rdev, false);
  }

  public void symlink(CallContext who, String target, String path) throws RpcException {
    Caller caller = who.caller();
    FusePath p = FusePath.of(path);
    Attr attr = parts.resolver.withInode(caller, p.parent(), parent -> parts.meta.mutateIn(
        caller, p.parent(), null, MetaRequest.newBuilder().setSymlink(SymlinkOp.newBuilder()
            .setParent(parent)
            .setName(p.name())
            .setTarget(target)
            .setNowNs(NanoTimes.nowNs()))).getAttr());
    parts.resolver.created(path, attr.getInode());
  }

  /** The whole target of the symbolic link at {@code path}. */
  public String readlink(CallContext who, String path) throws RpcException {
    Caller caller = who.caller();
    return parts.resolver.withInode(caller, path, inode -> parts.meta.call(caller,
        MetaRequest.newBuilder().setReadLink(ReadLinkOp.newBuilder().setInode(inode)))
        .getTarget());
  }

  public void link(CallContext who, String existing, String path) throws RpcException {
    Caller caller = who.caller();
    FusePath p = FusePath.of(path);
    Attr attr = parts.resolver.withInode(caller, existing, inode ->
        parts.resolver.withInode(caller, p.parent(), parent -> parts.meta.call(caller,
            MetaRequest.newBuilder().setLink(LinkOp.newBuilder()
                .setInode(inode)
                .setNewParent(parent)
                .setNewName(p.name())
                .setNowNs(NanoTimes.nowNs()))).getAttr()));
    parts.resolver.created(path, attr.getInode());
  }

  public void unlink(CallContext who, String path) throws RpcException {
    Caller caller = who.caller();
    parts.hidden.forgetJustHidden(who.pid());
    Long orphan = parts.hidden.remove(path);
    if (orphan != null) {
      // libfuse unlinks a hidden name at its node's last close; other handles of the inode
      // (through other names) may still be open here: then the last of them releases it.
      if (parts.handles.openFiles(orphan).isEmpty()) {
        parts.releaseOrphan(caller, orphan);
      } else {
        parts.hidden.releaseLater(orphan);
      }
      return;
    }
    FusePath p = FusePath.of(path);
    boolean keepOpen = isOpenHere(caller, path);
    try {
      MetaResponse r = parts.resolver.withInode(caller, p.parent(), parent ->
          parts.meta.mutateIn(caller, p.parent(), null, MetaRequest.newBuilder()
              .setUnlink(UnlinkOp.newBuilder()
                  .setParent(parent)
                  .setName(p.name())
                  .setKeepOpen(keepOpen)
                  .setNowNs(NanoTimes.nowNs()))));
      logFreed(path, r);
    } finally {
      parts.resolver.cache().invalidate(path);
    }
  }

  public void rmdir(CallContext who, String path) throws RpcException {
    Caller caller = who.caller();
    FusePath p = FusePath.of(path);
    try {
      MetaResponse r = parts.resolver.withInode(caller, p.parent(), parent ->
          parts.meta.mutateIn(caller, p.parent(), null, MetaRequest.newBuilder()
              .setRmdir(RmdirOp.newBuilder()
                  .setParent(parent)
                  .setName(p.name())
                  .setNowNs(NanoTimes.nowNs()))));
      logFreed(path, r);
    } finally {
      parts.resolver.cache().invalidateTree(path);
    }
  }

  /** One atomic metadata transaction; libfuse's hiding of open files is answered here. */
  public void rename(CallContext who, String oldpath, String newpath) throws RpcException {
    Caller caller = who.caller();
    HiddenFiles.Hidden justHidden = parts.hidden.takeJustHidden(who.pid());
    if (HiddenFiles.isHiddenName(newpath) && !HiddenFiles.isHiddenName(oldpath)
        && isOpenHere(caller, oldpath)) {
      hide(who, caller, oldpath, newpath);
      return;
    }
    if (justHidden != null && justHidden.path().equals(newpath)
        && parts.resolver.attr(caller, oldpath).getInode() == justHidden.inode()) {
      // rename(a, b) between two links of one inode, b open here: libfuse hid b first. POSIX
      // says such a rename does nothing: give b its link back, keep a.
      relink(caller, justHidden.inode(), newpath);
      return;
    }
    FusePath src = FusePath.of(oldpath);
    FusePath dst = FusePath.of(newpath);
    boolean keepTarget = isOpenHereIfExists(caller, newpath);
    try {
      MetaResponse r = parts.resolver.withInode(caller, src.parent(), srcParent ->
          parts.resolver.withInode(caller, dst.parent(), dstParent -> parts.meta.mutateIn(
              caller, src.parent(), dst.parent(), MetaRequest.newBuilder()
                  .setRename(RenameOp.newBuilder()
                      .setSrcParent(srcParent)
                      .setSrcName(src.name())
                      .setDstParent(dstParent)
                      .setDstName(dst.name())
                      .setKeepOpen(keepTarget)
                      .setNowNs(NanoTimes.nowNs())))));
      logFreed(newpath, r);
    } finally {
      // Everything cached below either name may now be elsewhere or gone.
      parts.resolver.cache().invalidateTree(oldpath);
      parts.resolver.cache().invalidateTree(newpath);
    }
  }

  /**
   * Makes a file, directory, device, FIFO or socket at {@code path}. {@code firstChunk}: place
   * chunk 0 with the file (MakeNodeOp.first_chunk).
   */
  MetaResponse makeNode(CallContext who, Caller caller, String path, FileType type, long mode,
      long rdev, boolean firstChunk) throws RpcException {
    parts.hidden.forgetJustHidden(who.pid());
    FusePath p = FusePath.of(path);
    MakeNodeOp.Builder op = MakeNodeOp.newBuilder()
        .setName(p.name())
        .setType(type)
        .setMode((int) mode & FileModes.PERMISSION_BITS)
        .setRdev((int) rdev)
        .setNowNs(NanoTimes.nowNs());
    if (firstChunk) {
      op.setFirstChunk(AllocateChunkOp.getDefaultInstance());
    }
    // A directory this mount makes is its own until another mount looks (a capability): what
    // is done in it next is done here and journaled.
    op.setTakeCapability(type == FileType.DIRECTORY && parts.meta.writeBack().enabled());
    MetaResponse made = parts.resolver.withInode(caller, p.parent(), parent -> {
      MetaResponse r = parts.meta.mutateIn(caller, p.parent(), null,
          MetaRequest.newBuilder().setMakeNode(op.setParent(parent)));
      if (r.getCapabilityGranted()) {
        parts.meta.writeBack().madeDirectory(path, r.getAttr(), parent);
      }
      return r;
    });
    parts.resolver.created(path, made.getAttr().getInode());
    return made;
  }

  /**
   * libfuse hides a file that is removed (or renamed over) while open here by renaming it to a
   * ".fuse_hidden" name: remove the entry for real instead, keeping the inode as this mount's
   * orphan, and answer for the hidden path until libfuse unlinks it at the last close.
   */
  private void hide(CallContext who, Caller caller, String path, String hiddenPath)
      throws RpcException {
    FusePath p = FusePath.of(path);
    long inode = parts.resolver.attr(caller, path).getInode();
    try {
      parts.resolver.withInode(caller, p.parent(), parent -> parts.meta.call(caller,
          MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder()
              .setParent(parent)
              .setName(p.name())
              .setKeepOpen(true)
              .setNowNs(NanoTimes.nowNs()))));
      parts.hidden.hide(path, hiddenPath, inode, who.pid());
    } finally {
      parts.resolver.cache().invalidate(path);
    }
  }

  private void relink(Caller caller, long inode, String path) throws RpcException {
    FusePath p = FusePath.of(path);
    Attr attr = parts.resolver.withInode(caller, p.parent(), parent -> parts.meta.call(caller,
        MetaRequest.newBuilder().setLink(LinkOp.newBuilder()
            .setInode(inode)
            .setNewParent(parent)
            .setNewName(p.name())
            .setNowNs(NanoTimes.nowNs()))).getAttr());
    parts.resolver.created(path, attr.getInode());
  }

  /**
   * Whether the file at {@code path} is open on this mount. libfuse hides only files open
   * through that name; a handle may also be open through a hidden name (a file whose other
   * link is removed now must stay for that handle).
   */
  private boolean isOpenHere(Caller caller, String path) throws RpcException {
    if (parts.handles.openCount() == 0) {
      return false;
    }
    return !parts.handles.openFiles(parts.resolver.attr(caller, path).getInode()).isEmpty();
  }

  private boolean isOpenHereIfExists(Caller caller, String path) throws RpcException {
    try {
      return isOpenHere(caller, path);
    } catch (RpcException e) {
      if (e.status() == Status.ENOENT) {
        return false;
      }
      throw e;
    }
  }

  private static void logFreed(String path, MetaResponse response) {
    if (response.getFreedInode() != 0) {
      // Nothing to do here: the server's garbage collector reclaims the data.
      LOG.debug("{}: inode {} lost its last link", path, response.getFreedInode());
    }
  }
}
