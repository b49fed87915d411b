package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.Status;

/**
 * rename(2) as one batch: every check first, then the entry moves, the replaced target (if
 * any) loses its link, and the parents' link counts follow a moved directory's "..". It
 * changes (see {@link CapabilityGate}) both parents and a replaced directory, and touches a
 * moved one.
 */
final class Rename {

  static final int RENAME_NOREPLACE = 1;
  static final int RENAME_EXCHANGE = 2;

  private final InodeWriter store;
  private final NamespaceWrites writes;

  Rename(InodeWriter store, NamespaceWrites writes) {
    this.store = store;
    this.writes = writes;
  }

  MetaResponse rename(Caller caller, RenameOp op) {
    return rename(caller, op, 0);
  }

  /** {@code clientId}: the requester, whose open replaced target is kept if op.keep_open. */
  MetaResponse rename(Caller caller, RenameOp op, long clientId) {
    int flags = op.getFlags();
    if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0
        || flags == (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
      return Replies.fail(Status.EINVAL, "bad rename flags " + flags);
    }
    if (flags == RENAME_EXCHANGE) {
      return Replies.fail(Status.ENOTSUP, "RENAME_EXCHANGE is not supported");
    }
    long now = op.getNowNs();
    Attr srcParent = store.attr(op.getSrcParent());
    MetaResponse refused =
        writes.checkExistingEntry(caller, srcParent, op.getSrcParent(), op.getSrcName());
    if (refused != null) {
      return refused;
    }
    Attr dstParent = store.attr(op.getDstParent());
    refused = writes.checkExistingEntry(caller, dstParent, op.getDstParent(), op.getDstName());
    if (refused != null) {
      return refused;
    }
    InodeReader.Child srcChild = store.child(op.getSrcParent(), op.getSrcName());
    if (srcChild == null) {
      return Replies.fail(Status.ENOENT, "no entry " + op.getSrcName());
    }
    Attr src = store.attr(srcChild.inode());
    boolean srcIsDir = src.getType() == FileType.DIRECTORY;
    // A moved directory's ".." changes: it is touched like both parents.
    refused = writes.capabilityRefusal(src);
    if (refused != null) {
      return refused;
    }
    Status sticky = writes.mayRemove(caller, srcParent, src);
    if (sticky != Status.OK) {
      return Replies.fail(sticky, "sticky directory");
    }
    InodeReader.Child dstChild = store.child(op.getDstParent(), op.getDstName());
    if (dstChild != null && dstChild.inode() == src.getInode()) {
      // Both names are links to one inode: POSIX says do nothing and succeed.
      return Replies.ok(src);
    }
    if (srcIsDir && isSelfOrAncestor(src.getInode(), op.getDstParent())) {
      return Replies.fail(Status.EINVAL, "cannot move a directory into its own subtree");
    }
    Attr dst = null;
    if (dstChild != null) {
      if ((flags & RENAME_NOREPLACE) != 0) {
        return Replies.fail(Status.EEXIST, op.getDstName() + " exists");
      }
      dst = store.attr(dstChild.inode());
      boolean dstIsDir = dst.getType() == FileType.DIRECTORY;
      refused = writes.changeRefusal(dst); // a replaced directory goes: its readers too
      if (refused != null) {
        return refused;
      }
      sticky = writes.mayRemove(caller, dstParent, dst);
      if (sticky != Status.OK) {
        return Replies.fail(sticky, "sticky directory");
      }
      if (srcIsDir && !dstIsDir) {
        return Replies.fail(Status.ENOTDIR, op.getDstName() + " is not a directory");
      }
      if (!srcIsDir && dstIsDir) {
        return Replies.fail(Status.EISDIR, op.getDstName() + " is a directory");
      }
      if (dstIsDir && store.hasEntries(dst.getInode())) {
        return Replies.fail(Status.ENOTEMPTY, op.getDstName() + " is not empty");
      }
    }

    // Every check passed: write. Parents are re-read through the batch because the source
    // and destination parent may be the same inode.
    long freed = 0;
    if (dst != null) {
      if (dst.getType() == FileType.DIRECTORY) {
        store.free(dst);
        addLinks(op.getDstParent(), -1, now); // the replaced directory's ".." is gone
        freed = dst.getInode();
      } else {
        freed = writes.dropLink(dst, now, op.getKeepOpen() ? clientId : 0);
      }
    }
    store.deleteChild(op.getSrcParent(), op.getSrcName());
    store.putChild(op.getDstParent(), op.getDstName(), src.getInode(), src.getType());
    addLinks(op.getSrcParent(), srcIsDir ? -1 : 0, now);
    addLinks(op.getDstParent(), srcIsDir ? 1 : 0, now);
    if (srcIsDir) {
      store.putParent(src.getInode(), op.getDstParent());
    }
    Attr.Builder movedAttr = store.attr(src.getInode()).toBuilder().setCtimeNs(now);
    if (srcIsDir || src.getNlink() == 1) {
      movedAttr.setParent(op.getDstParent()); // the directory whose capability covers it now
    }
    Attr moved = movedAttr.build();
    store.putAttr(moved);
    return MetaResponse.newBuilder()
        .setStatus(Status.OK)
        .setAttr(moved)
        .setFreedInode(freed)
        .build();
  }

  /** True if {@code dir} is {@code start} or one of its ancestors (walking P keys up). */
  private boolean isSelfOrAncestor(long dir, long start) {
    long current = start;
    while (true) {
      if (current == dir) {
        return true;
      }
      if (current == KeySchema.ROOT_INODE || current == 0) {
        return false;
      }
      current = store.parentOf(current);
    }
  }

  private void addLinks(long dirIno, int delta, long now) {
    Attr dir = store.attr(dirIno);
    store.putAttr(NamespaceWrites.touch(dir, now).toBuilder().setNlink(dir.getNlink() + delta).build());
  }
}
