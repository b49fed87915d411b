package io.shoalfs.server.meta;

import io.shoalfs.fs.AttrRules;
import io.shoalfs.fs.Relatime;
import io.shoalfs.proto.AppendOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GarbageInode;
import io.shoalfs.proto.LinkOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.PurgeOp;
import io.shoalfs.proto.ReleaseOrphanOp;
import io.shoalfs.proto.RemoveXattrOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.SetXattrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SymlinkOp;
import io.shoalfs.proto.UnlinkOp;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The namespace mutations other than rename. Each checks everything before it writes, takes
 * time only from the op's now_ns and inode ids only from the stored counter (or from a range
 * the store leased to the requester's session), so every replica applying the same log ends
 * with the same bytes. The first check on every directory an op touches is the
 * {@link CapabilityGate}'s: while another session holds it, what the store says of its
 * entries may be out of date.
 */
final class NamespaceWrites {

  static final int S_ISUID = AttrRules.S_ISUID;
  static final int S_ISGID = AttrRules.S_ISGID;
  static final int S_IXGRP = AttrRules.S_IXGRP;
  static final int PERMISSION_BITS = AttrRules.PERMISSION_BITS;

  // SetAttrOp.valid bits (one definition, AttrRules, shared with the mounts).
  static final int SET_MODE = AttrRules.SET_MODE;
  static final int SET_UID = AttrRules.SET_UID;
  static final int SET_GID = AttrRules.SET_GID;
  static final int SET_SIZE = AttrRules.SET_SIZE;
  static final int SET_ATIME = AttrRules.SET_ATIME;
  static final int SET_MTIME = AttrRules.SET_MTIME;
  static final int SET_ATIME_NOW = AttrRules.SET_ATIME_NOW;
  static final int SET_MTIME_NOW = AttrRules.SET_MTIME_NOW;
  static final int SET_ACCESSED = AttrRules.SET_ACCESSED;

  static final int XATTR_CREATE = 1;
  static final int XATTR_REPLACE = 2;

  private final InodeWriter store;
  private final Permissions permissions;
  private final CapabilityGate gate;
  private final InodeLeases leases;

  NamespaceWrites(InodeWriter store, Permissions permissions, CapabilityGate gate,
      InodeLeases leases) {
    this.store = store;
    this.permissions = permissions;
    this.gate = gate;
    this.leases = leases;
  }

  /**
   * Null if the requester may touch {@code inode}; CAP_HELD if it is a directory another
   * session holds the exclusive capability of (see the gate).
   */
  MetaResponse capabilityRefusal(Attr inode) {
    return gate.refusal(inode);
  }

  /**
   * Null if the requester may change {@code inode} (for a directory: remove it); CAP_HELD if
   * another session holds a capability that covers it (see the gate).
   */
  MetaResponse changeRefusal(Attr inode) {
    return gate.changeRefusal(inode);
  }

  /** {@code clientId}: the requester, whose leased numbers op.inode may name. */
  MetaResponse makeNode(Caller caller, MakeNodeOp op, long clientId) {
    switch (op.getType()) {
      case REGULAR, DIRECTORY, FIFO, SOCKET, CHAR_DEVICE, BLOCK_DEVICE -> { }
      default -> {
        return Replies.fail(Status.EINVAL, "make_node cannot create type " + op.getType());
      }
    }
    Attr parent = store.attr(op.getParent());
    MetaResponse refused = checkNewEntry(caller, parent, op.getParent(), op.getName());
    if (refused != null) {
      return refused;
    }
    refused = takeLeased(clientId, op.getInode());
    if (refused != null) {
      return refused;
    }
    boolean device = op.getType() == FileType.CHAR_DEVICE || op.getType() == FileType.BLOCK_DEVICE;
    Attr attr = create(caller, parent, op.getName(), op.getType(), op.getMode(),
        device ? op.getRdev() : 0, op.getNowNs(), newInode(op.getInode()));
    return Replies.ok(attr);
  }

  /** As {@link #makeNode}: {@code clientId} may have leased op.inode. */
  MetaResponse symlink(Caller caller, SymlinkOp op, long clientId) {
    if (op.getTarget().isEmpty()) {
      return Replies.fail(Status.ENOENT, "empty symlink target");
    }
    if (Names.utf8Length(op.getTarget()) >= Names.PATH_MAX) {
      return Replies.fail(Status.ENAMETOOLONG, "symlink target too long");
    }
    Attr parent = store.attr(op.getParent());
    MetaResponse refused = checkNewEntry(caller, parent, op.getParent(), op.getName());
    if (refused != null) {
      return refused;
    }
    refused = takeLeased(clientId, op.getInode());
    if (refused != null) {
      return refused;
    }
    Attr attr = create(caller, parent, op.getName(), FileType.SYMLINK, 0777, 0, op.getNowNs(),
        newInode(op.getInode()));
    attr = attr.toBuilder().setSize(Names.utf8Length(op.getTarget())).build();
    store.putAttr(attr);
    store.putSymlinkTarget(attr.getInode(), op.getTarget());
    return Replies.ok(attr);
  }

  MetaResponse link(Caller caller, LinkOp op) {
    Attr attr = store.attr(op.getInode());
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    if (attr.getType() == FileType.DIRECTORY) {
      return Replies.fail(Status.EPERM, "hard links to directories are not allowed");
    }
    Attr parent = store.attr(op.getNewParent());
    MetaResponse refused = checkNewEntry(caller, parent, op.getNewParent(), op.getNewName());
    if (refused != null) {
      return refused;
    }
    refused = gate.changeRefusal(attr);
    if (refused != null) {
      return refused;
    }
    store.putChild(op.getNewParent(), op.getNewName(), attr.getInode(), attr.getType());
    store.putAttr(touch(parent, op.getNowNs()));
    // Linked twice, it has no one directory whose shared capability could cover it any more.
    Attr linked = attr.toBuilder().setNlink(attr.getNlink() + 1).setCtimeNs(op.getNowNs())
        .clearParent().build();
    store.putAttr(linked);
    return Replies.ok(linked);
  }

  MetaResponse unlink(Caller caller, UnlinkOp op, long clientId) {
    Attr parent = store.attr(op.getParent());
    MetaResponse refused = checkExistingEntry(caller, parent, op.getParent(), op.getName());
    if (refused != null) {
      return refused;
    }
    InodeReader.Child child = store.child(op.getParent(), op.getName());
    if (child == null) {
      return Replies.fail(Status.ENOENT, "no entry " + op.getName());
    }
    Attr attr = store.attr(child.inode());
    if (attr.getType() == FileType.DIRECTORY) {
      return Replies.fail(Status.EISDIR, op.getName() + " is a directory");
    }
    Status sticky = permissions.mayRemove(caller, parent, attr);
    if (sticky != Status.OK) {
      return Replies.fail(sticky, "sticky directory");
    }
    store.deleteChild(op.getParent(), op.getName());
    store.putAttr(touch(parent, op.getNowNs()));
    return Replies.okFreed(dropLink(attr, op.getNowNs(), op.getKeepOpen() ? clientId : 0));
  }

  /** The client's last handle of an inode it kept open after its last unlink is closed. */
  MetaResponse releaseOrphan(long clientId, ReleaseOrphanOp op, KvBatch batch) {
    batch.delete(KeySchema.orphan(clientId, op.getInode()));
    Attr attr = store.attr(op.getInode());
    if (attr == null || attr.getNlink() > 0) {
      return Replies.ok(); // linked again meanwhile, or gone already
    }
    store.free(attr);
    return Replies.okFreed(attr.getInode());
  }

  MetaResponse rmdir(Caller caller, RmdirOp op) {
    Attr parent = store.attr(op.getParent());
    MetaResponse refused = checkExistingEntry(caller, parent, op.getParent(), op.getName());
    if (refused != null) {
      return refused;
    }
    InodeReader.Child child = store.child(op.getParent(), op.getName());
    if (child == null) {
      return Replies.fail(Status.ENOENT, "no entry " + op.getName());
    }
    Attr dir = store.attr(child.inode());
    if (dir.getType() != FileType.DIRECTORY) {
      return Replies.fail(Status.ENOTDIR, op.getName() + " is not a directory");
    }
    MetaResponse held = gate.changeRefusal(dir);
    if (held != null) {
      return held;
    }
    Status sticky = permissions.mayRemove(caller, parent, dir);
    if (sticky != Status.OK) {
      return Replies.fail(sticky, "sticky directory");
    }
    if (store.hasEntries(dir.getInode())) {
      return Replies.fail(Status.ENOTEMPTY, op.getName() + " is not empty");
    }
    store.deleteChild(op.getParent(), op.getName());
    store.free(dir);
    store.putAttr(touch(parent, op.getNowNs()).toBuilder().setNlink(parent.getNlink() - 1).build());
    return Replies.okFreed(dir.getInode());
  }

  MetaResponse setAttr(Caller caller, SetAttrOp op) {
    if (op.hasCommit()) {
      if (op.getCommit().getInode() != op.getInode()) {
        return Replies.fail(Status.EINVAL, "a setattr commits writes of its own inode only");
      }
      // Reads below go through the batch, so they see the committed size and times. A refusal
      // further down leaves neither (Namespace.apply rolls back this request's writes).
      MetaResponse committed = commitWrite(op.getCommit());
      if (committed.getStatus() != Status.OK) {
        return committed;
      }
    }
    Attr attr = store.attr(op.getInode());
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    int valid = op.getValid();
    // Access notes leave shared holders alone: their copies may keep an older atime, as
    // relatime itself allows; every other change recalls them.
    boolean changes = valid != 0 && (valid & SET_ACCESSED) == 0;
    MetaResponse held = changes ? gate.changeRefusal(attr) : gate.refusal(attr);
    if (held != null) {
      return held;
    }
    if (valid == 0) {
      return Replies.ok(attr);
    }
    if ((valid & SET_ACCESSED) != 0) {
      return accessed(attr, op.getNowNs());
    }
    Status allowed = permissions.maySetAttr(caller, attr, op);
    if (allowed != Status.OK) {
      return Replies.fail(allowed, "not allowed to change these attributes");
    }
    if ((valid & SET_SIZE) != 0) {
      if (attr.getType() == FileType.DIRECTORY) {
        return Replies.fail(Status.EISDIR, "cannot set the size of a directory");
      }
      if (attr.getType() != FileType.REGULAR) {
        return Replies.fail(Status.EINVAL, "size applies to regular files only");
      }
    }
    Attr updated = AttrRules.setAttr(caller, attr, op);
    store.putAttr(updated);
    return Replies.ok(updated);
  }

  /** Linux relatime: a read moves atime to now when it is not after mtime or ctime, or is old. */
  private MetaResponse accessed(Attr attr, long nowNs) {
    // Clients send access notes off the read path, so one can arrive after a change its own
    // mount made later, explicit times above all, which it must not undo: a note older than
    // the inode's last change is dropped (relatime is advice; the next read notes again).
    if (attr.getCtimeNs() > nowNs) {
      return Replies.ok(attr);
    }
    if (!Relatime.isDue(attr, nowNs)) {
      return Replies.ok(attr);
    }
    Attr updated = attr.toBuilder().setAtimeNs(nowNs).build();
    store.putAttr(updated);
    return Replies.ok(updated);
  }

  MetaResponse commitWrite(CommitWriteOp op) {
    Attr attr = store.attr(op.getInode());
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    if (attr.getType() == FileType.DIRECTORY) {
      return Replies.fail(Status.EISDIR, "cannot write a directory");
    }
    if (attr.getType() != FileType.REGULAR) {
      return Replies.fail(Status.EINVAL, "data belongs to regular files only");
    }
    MetaResponse held = gate.changeRefusal(attr);
    if (held != null) {
      return held;
    }
    Attr updated = AttrRules.committed(attr, op.getEndOffset(), op.getNowNs());
    store.putAttr(updated);
    return Replies.ok(updated);
  }

  /** O_APPEND: reserves op.length bytes at the end; the answer's offset is where they start. */
  MetaResponse append(AppendOp op) {
    Attr attr = store.attr(op.getInode());
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    if (attr.getType() != FileType.REGULAR) {
      return Replies.fail(attr.getType() == FileType.DIRECTORY ? Status.EISDIR : Status.EINVAL,
          "data belongs to regular files only");
    }
    MetaResponse held = gate.changeRefusal(attr);
    if (held != null) {
      return held;
    }
    long offset = attr.getSize();
    if (op.getLength() < 0 || offset + op.getLength() < offset) {
      return Replies.fail(Status.EFBIG, "append past the largest file size");
    }
    Attr updated = attr.toBuilder()
        .setSize(offset + op.getLength())
        .setMtimeNs(op.getNowNs())
        .setCtimeNs(op.getNowNs())
        .build();
    store.putAttr(updated);
    return MetaResponse.newBuilder().setStatus(Status.OK).setAttr(updated).setOffset(offset).build();
  }

  MetaResponse setXattr(Caller caller, SetXattrOp op) {
    Attr attr = store.attr(op.getInode());
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    MetaResponse held = gate.changeRefusal(attr);
    if (held != null) {
      return held;
    }
    Status nameStatus = Names.checkXattrName(op.getName());
    if (nameStatus != Status.OK) {
      return Replies.fail(nameStatus, "bad xattr name");
    }
    if (op.getValue().size() > Names.XATTR_VALUE_MAX) {
      return Replies.fail(Status.E2BIG, "xattr value over " + Names.XATTR_VALUE_MAX + " bytes");
    }
    int flags = op.getFlags();
    if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0 || flags == (XATTR_CREATE | XATTR_REPLACE)) {
      return Replies.fail(Status.EINVAL, "bad xattr flags " + flags);
    }
    Status allowed = permissions.check(caller, attr, Permissions.WRITE);
    if (allowed != Status.OK) {
      return Replies.fail(allowed, "permission denied");
    }
    boolean exists = store.xattr(op.getInode(), op.getName()) != null;
    if (exists && flags == XATTR_CREATE) {
      return Replies.fail(Status.EEXIST, "xattr " + op.getName() + " exists");
    }
    if (!exists && flags == XATTR_REPLACE) {
      return Replies.fail(Status.ENODATA, "no xattr " + op.getName());
    }
    store.putXattr(op.getInode(), op.getName(), op.getValue().toByteArray());
    store.putAttr(attr.toBuilder().setCtimeNs(op.getNowNs()).build());
    return Replies.ok();
  }

  MetaResponse removeXattr(Caller caller, RemoveXattrOp op) {
    Attr attr = store.attr(op.getInode());
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    MetaResponse held = gate.changeRefusal(attr);
    if (held != null) {
      return held;
    }
    Status nameStatus = Names.checkXattrName(op.getName());
    if (nameStatus != Status.OK) {
      return Replies.fail(nameStatus, "bad xattr name");
    }
    Status allowed = permissions.check(caller, attr, Permissions.WRITE);
    if (allowed != Status.OK) {
      return Replies.fail(allowed, "permission denied");
    }
    if (store.xattr(op.getInode(), op.getName()) == null) {
      return Replies.fail(Status.ENODATA, "no xattr " + op.getName());
    }
    store.deleteXattr(op.getInode(), op.getName());
    store.putAttr(attr.toBuilder().setCtimeNs(op.getNowNs()).build());
    return Replies.ok();
  }

  /**
   * The member no longer holds copies of these inodes' data: it leaves their garbage records.
   * A record left by its last holder (or that names none: earlier versions left one for a
   * file without chunks) is forgotten, with the inode's chunks in the chunk map; until then
   * the chunk map keeps naming the holders still to delete, so their copies are not orphans
   * yet. An inode without a garbage record (already forgotten, still a live file, or freed
   * with no chunk) is left alone.
   */
  MetaResponse purge(PurgeOp op, ChunkMapWrites chunks) {
    if (op.getMember().isEmpty()) {
      return Replies.fail(Status.EINVAL, "purge needs the member");
    }
    List<Long> forgotten = new ArrayList<>();
    for (long ino : new LinkedHashSet<>(op.getInodesList())) {
      GarbageInode garbage = store.garbage(ino);
      if (garbage == null) {
        continue;
      }
      List<String> left = new ArrayList<>(garbage.getHoldersList());
      left.remove(op.getMember());
      if (left.isEmpty()) {
        store.deleteGarbage(ino);
        forgotten.add(ino);
      } else if (left.size() < garbage.getHoldersCount()) {
        store.putGarbage(garbage.toBuilder().clearHolders().addAllHolders(left).build());
      }
    }
    chunks.forget(forgotten);
    return Replies.ok();
  }

  // ------------------------------------------------------------------ shared with Rename

  /** Null if {@code name} may be created in {@code parent}, else the refusal. */
  MetaResponse checkNewEntry(Caller caller, Attr parent, long parentIno, String name) {
    MetaResponse refused = checkExistingEntry(caller, parent, parentIno, name);
    if (refused != null) {
      return refused;
    }
    if (store.child(parentIno, name) != null) {
      return Replies.fail(Status.EEXIST, name + " exists");
    }
    return null;
  }

  /**
   * Null if {@code parent} is a directory the caller may change and {@code name} is valid.
   * Every op that adds or removes an entry comes through here: this is where it touches the
   * parent.
   */
  MetaResponse checkExistingEntry(Caller caller, Attr parent, long parentIno, String name) {
    if (parent == null) {
      return Replies.fail(Status.ENOENT, "no inode " + parentIno);
    }
    if (parent.getType() != FileType.DIRECTORY) {
      return Replies.fail(Status.ENOTDIR, "inode " + parentIno + " is not a directory");
    }
    MetaResponse held = gate.changeRefusal(parentIno);
    if (held != null) {
      return held;
    }
    Status nameStatus = Names.checkEntryName(name);
    if (nameStatus != Status.OK) {
      return Replies.fail(nameStatus, "bad name");
    }
    Status allowed = permissions.check(caller, parent, Permissions.WRITE | Permissions.EXECUTE);
    if (allowed != Status.OK) {
      return Replies.fail(allowed, "permission denied");
    }
    return null;
  }

  /**
   * Takes one link from a non-directory. Returns the inode if that was its last link (it is
   * freed), else 0.
   */
  long dropLink(Attr attr, long nowNs) {
    return dropLink(attr, nowNs, 0);
  }

  /**
   * Takes one link; a last link of an inode that client {@code keepFor} (non-zero) still has
   * open keeps the inode, with nlink 0, as that client's orphan until ReleaseOrphanOp.
   */
  long dropLink(Attr attr, long nowNs, long keepFor) {
    if (attr.getNlink() <= 1 && keepFor != 0) {
      store.putAttr(attr.toBuilder().setNlink(0).setCtimeNs(nowNs).build());
      store.putOrphan(keepFor, attr.getInode());
      return 0;
    }
    if (attr.getNlink() <= 1) {
      store.free(attr);
      return attr.getInode();
    }
    store.putAttr(attr.toBuilder().setNlink(attr.getNlink() - 1).setCtimeNs(nowNs).build());
    return 0;
  }

  static Attr touch(Attr dir, long nowNs) {
    return AttrRules.touched(dir, nowNs);
  }

  /** Null when {@code ino} is 0 (the counter's next) or leased to the client, else EINVAL. */
  private MetaResponse takeLeased(long clientId, long ino) {
    return ino == 0 ? null : leases.take(clientId, ino);
  }

  /** The id of a new inode: {@code leased} (taken by {@link #takeLeased}), or the next free. */
  private long newInode(long leased) {
    return leased == 0 ? store.allocateInode() : store.adoptReservedInode(leased);
  }

  private Attr create(Caller caller, Attr parent, String name, FileType type, int mode, int rdev,
      long nowNs, long ino) {
    Attr attr = AttrRules.newNode(caller, parent, ino, type, mode, rdev, nowNs);
    boolean dir = type == FileType.DIRECTORY;
    store.putAttr(attr);
    store.putChild(parent.getInode(), name, ino, type);
    Attr.Builder p = touch(parent, nowNs).toBuilder();
    if (dir) {
      store.putParent(ino, parent.getInode());
      p.setNlink(parent.getNlink() + 1);
    }
    store.putAttr(p.build());
    return attr;
  }

  /** OK, or EPERM when a sticky directory keeps the caller from removing or replacing child. */
  Status mayRemove(Caller caller, Attr dir, Attr child) {
    return permissions.mayRemove(caller, dir, child);
  }
}
