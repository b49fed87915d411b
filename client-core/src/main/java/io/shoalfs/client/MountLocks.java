package io.shoalfs.client;

import io.shoalfs.proto.LockKind;
import io.shoalfs.proto.LockRange;
import io.shoalfs.proto.LockType;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.function.BooleanSupplier;

/**
 * POSIX record locks (fcntl) and flock(2) locks of a mount's open files. Ranges are absolute,
 * [start, end) with end 0 for "to the end of the file".
 */
public final class MountLocks {
  private static final int LOCK_EX = 2;
  private static final int LOCK_NB = 4;
  private static final int LOCK_UN = 8;

  private final MountParts parts;

  MountLocks(MountParts parts) {
    this.parts = parts;
  }

  /** F_GETLK: the lock of another owner that conflicts with the one described, or null. */
  public LockRange testLock(CallContext who, long fh, long owner, LockType type, long start,
      long end) throws RpcException {
    long inode = parts.handles.get(fh).inode();
    return parts.locks.conflict(who.caller(), inode, LockKind.POSIX, owner, type, start, end);
  }

  /** F_SETLK, or F_SETLKW when {@code wait}: takes, converts or releases a record lock. */
  public void setLock(CallContext who, long fh, long owner, LockType type, long start, long end,
      boolean wait) throws RpcException {
    long inode = parts.handles.get(fh).inode();
    int pid = (int) who.pid();
    parts.locks.set(who.caller(), inode, LockKind.POSIX, owner, type, start, end, pid, wait,
        waiterAlive(fh, pid));
  }

  /** flock(2) with {@code operation} (LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB or not). */
  public void flock(CallContext who, long fh, long owner, int operation) throws RpcException {
    LockType type = (operation & LOCK_UN) != 0 ? LockType.UNLOCK
        : (operation & LOCK_EX) != 0 ? LockType.WRITE_LOCK : LockType.READ_LOCK;
    OpenFile file = parts.handles.find(fh);
    if (file == null) {
      if (type == LockType.UNLOCK) {
        return; // released with its handle already
      }
      throw new RpcException(Status.EBADF, "no open handle " + fh);
    }
    int pid = (int) who.pid();
    parts.locks.set(who.caller(), file.inode(), LockKind.FLOCK, owner, type, 0, 0, pid,
        (operation & LOCK_NB) == 0, waiterAlive(fh, pid));
    file.flockedAs(type == LockType.UNLOCK ? 0 : owner);
  }

  /** A flock belongs to the open file: it goes with the handle's release. */
  void releaseFlock(OpenFile file) throws RpcException {
    long owner = file.flockOwner();
    if (owner != 0) {
      parts.locks.set(file.opener(), file.inode(), LockKind.FLOCK, owner, LockType.UNLOCK, 0, 0,
          0, false, () -> false);
    }
  }

  /** A blocked lock request is still wanted while its handle is open and its process lives. */
  private BooleanSupplier waiterAlive(long fh, int pid) {
    return () -> parts.handles.find(fh) != null && LockClient.isLiveProcess(pid);
  }
}
