package io.shoalfs.fs;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.SetAttrOp;

/**
 * How an operation changes attributes, shared by the metadata state machine (which applies it)
 * and a mount working under a capability (which applies it first, locally, and journals it):
 * both must arrive at the same attributes, or the mount would show what the cluster never
 * records. Who may make a change is decided before, by each side's permission rules.
 */
public final class AttrRules {
  public static final int PERMISSION_BITS = 07777;
  public static final int S_ISUID = 04000;
  public static final int S_ISGID = 02000;
  public static final int S_IXGRP = 010;
  // SetAttrOp.valid bits.
  public static final int SET_MODE = 1;
  public static final int SET_UID = 2;
  public static final int SET_GID = 4;
  public static final int SET_SIZE = 8;
  public static final int SET_ATIME = 16;
  public static final int SET_MTIME = 32;
  public static final int SET_ATIME_NOW = 64;
  public static final int SET_MTIME_NOW = 128;
  public static final int SET_ACCESSED = 256;

  private AttrRules() {}

  /**
   * A node made by {@code caller} in {@code parent} at {@code nowNs}: BSD group semantics in a
   * setgid directory (the group comes from the directory, and subdirectories carry the bit on).
   */
  public static Attr newNode(Caller caller, Attr parent, long inode, FileType type, int mode,
      int rdev, long nowNs) {
    int perm = mode & PERMISSION_BITS;
    int gid = caller.getGid();
    if ((parent.getMode() & S_ISGID) != 0) {
      gid = parent.getGid();
      if (type == FileType.DIRECTORY) {
        perm |= S_ISGID;
      }
    }
    return Attr.newBuilder()
        .setInode(inode)
        .setType(type)
        .setMode(perm)
        .setUid(caller.getUid())
        .setGid(gid)
        .setNlink(type == FileType.DIRECTORY ? 2 : 1)
        .setAtimeNs(nowNs)
        .setMtimeNs(nowNs)
        .setCtimeNs(nowNs)
        .setRdev(rdev)
        .setParent(parent.getInode())
        .build();
  }

  /** A directory whose entries changed at {@code nowNs}. */
  public static Attr touched(Attr dir, long nowNs) {
    return dir.toBuilder().setMtimeNs(nowNs).setCtimeNs(nowNs).build();
  }

  /** Data written up to {@code endOffset}: size grows to it, mtime and ctime become now. */
  public static Attr committed(Attr attr, long endOffset, long nowNs) {
    return attr.toBuilder()
        .setSize(Math.max(attr.getSize(), endOffset))
        .setMtimeNs(nowNs)
        .setCtimeNs(nowNs)
        .build();
  }

  /**
   * {@code op}'s fields applied to {@code attr} (allowed already; a size only for a regular
   * file), as Linux does: a chmod by a caller outside the file's group drops setgid; a chown of
   * a regular file drops setuid, and setgid when it means "execute as group".
   */
  public static Attr setAttr(Caller caller, Attr attr, SetAttrOp op) {
    int valid = op.getValid();
    Attr.Builder b = attr.toBuilder().setCtimeNs(op.getNowNs());
    if ((valid & SET_SIZE) != 0) {
      b.setSize(op.getSize()).setMtimeNs(op.getNowNs());
    }
    if ((valid & SET_MODE) != 0) {
      int mode = op.getMode() & PERMISSION_BITS;
      if (caller.getUid() != 0 && !inGroup(caller, attr.getGid())) {
        mode &= ~S_ISGID;
      }
      b.setMode(mode);
    }
    if ((valid & (SET_UID | SET_GID)) != 0) {
      if ((valid & SET_UID) != 0) {
        b.setUid(op.getUid());
      }
      if ((valid & SET_GID) != 0) {
        b.setGid(op.getGid());
      }
      // Without group-exec, setgid marks mandatory locking and stays.
      if (attr.getType() == FileType.REGULAR && (valid & SET_MODE) == 0) {
        int mode = b.getMode() & ~S_ISUID;
        if ((mode & S_IXGRP) != 0) {
          mode &= ~S_ISGID;
        }
        b.setMode(mode);
      }
    }
    if ((valid & SET_ATIME_NOW) != 0) {
      b.setAtimeNs(op.getNowNs());
    } else if ((valid & SET_ATIME) != 0) {
      b.setAtimeNs(op.getAtimeNs());
    }
    if ((valid & SET_MTIME_NOW) != 0) {
      b.setMtimeNs(op.getNowNs());
    } else if ((valid & SET_MTIME) != 0) {
      b.setMtimeNs(op.getMtimeNs());
    }
    return b.build();
  }

  /** Whether the caller's gid or one of its supplementary groups is {@code gid}. */
  public static boolean inGroup(Caller caller, int gid) {
    return caller.getGid() == gid || caller.getGroupsList().contains(gid);
  }
}
