package io.shoalfs.server.meta;

import io.shoalfs.fs.AttrRules;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;

/**
 * Linux's permission rules, for the caller's uid, gid and supplementary groups as the client
 * read them from the FUSE context: owner, group or other bits (the first class that matches
 * decides), root passes everything but executing a file with no execute bit, sticky
 * directories, and the owner-only attribute changes of chmod(2), chown(2) and utimensat(2)
 * (a writer's chmod that only drops setuid and setgid excepted).
 * The size of a file is not checked here: ftruncate through a handle opened for writing is
 * allowed whatever the mode, and the kernel checks truncate(2) by path.
 */
public final class ModePermissions implements Permissions {

  private static final int S_ISVTX = 01000;
  private static final int SET_ID_BITS = NamespaceWrites.S_ISUID | NamespaceWrites.S_ISGID;

  @Override
  public Status check(Caller caller, Attr inode, int access) {
    int mode = inode.getMode();
    if (caller.getUid() == 0) {
      boolean exec = (access & EXECUTE) != 0;
      return exec && inode.getType() != FileType.DIRECTORY && (mode & 0111) == 0
          ? Status.EACCES : Status.OK;
    }
    int bits;
    if (caller.getUid() == inode.getUid()) {
      bits = (mode >> 6) & 7;
    } else if (inGroup(caller, inode.getGid())) {
      bits = (mode >> 3) & 7;
    } else {
      bits = mode & 7;
    }
    return (bits & access) == access ? Status.OK : Status.EACCES;
  }

  @Override
  public Status mayRemove(Caller caller, Attr dir, Attr child) {
    if ((dir.getMode() & S_ISVTX) == 0 || caller.getUid() == 0) {
      return Status.OK;
    }
    return caller.getUid() == dir.getUid() || caller.getUid() == child.getUid()
        ? Status.OK : Status.EPERM;
  }

  @Override
  public Status maySetAttr(Caller caller, Attr inode, SetAttrOp op) {
    if (caller.getUid() == 0) {
      return Status.OK;
    }
    int valid = op.getValid();
    boolean owner = caller.getUid() == inode.getUid();
    if ((valid & NamespaceWrites.SET_MODE) != 0 && !owner
        && !dropsOnlySetIdBitsOfAFileItMayWrite(caller, inode, op.getMode())) {
      return Status.EPERM;
    }
    if ((valid & NamespaceWrites.SET_UID) != 0 && op.getUid() != inode.getUid()) {
      return Status.EPERM;
    }
    if ((valid & (NamespaceWrites.SET_UID | NamespaceWrites.SET_GID)) != 0 && !owner) {
      return Status.EPERM;
    }
    if ((valid & NamespaceWrites.SET_GID) != 0 && op.getGid() != inode.getGid()
        && !inGroup(caller, op.getGid())) {
      return Status.EPERM;
    }
    if ((valid & (NamespaceWrites.SET_ATIME | NamespaceWrites.SET_MTIME)) != 0 && !owner) {
      return Status.EPERM;
    }
    if ((valid & (NamespaceWrites.SET_ATIME_NOW | NamespaceWrites.SET_MTIME_NOW)) != 0 && !owner) {
      return check(caller, inode, WRITE);
    }
    return Status.OK;
  }

  /**
   * The one chmod a non-owner may make. Before an unprivileged write or truncate the kernel
   * drops setuid and setgid (file_remove_privs); through FUSE that arrives as a chmod in the
   * writer's name, which Linux never refuses to someone allowed to write the file. So a chmod
   * of a regular file that only takes away setuid and/or setgid, and changes no other bit, is
   * allowed to a caller with write permission.
   */
  private boolean dropsOnlySetIdBitsOfAFileItMayWrite(Caller caller, Attr inode, int mode) {
    int before = inode.getMode() & NamespaceWrites.PERMISSION_BITS;
    int after = mode & NamespaceWrites.PERMISSION_BITS;
    int dropped = before & ~after;
    boolean onlyDrops = (after & ~before) == 0 && dropped != 0 && (dropped & ~SET_ID_BITS) == 0;
    return onlyDrops && inode.getType() == FileType.REGULAR
        && check(caller, inode, WRITE) == Status.OK;
  }

  static boolean inGroup(Caller caller, int gid) {
    return AttrRules.inGroup(caller, gid);
  }
}
