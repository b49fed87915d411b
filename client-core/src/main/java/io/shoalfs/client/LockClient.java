package io.shoalfs.client;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.GetLockOp;
import io.shoalfs.proto.LockKind;
import io.shoalfs.proto.LockRange;
import io.shoalfs.proto.LockType;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.SetLockOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.concurrent.ConcurrentHashMap;

/**
 * flock(2) and fcntl(2) locks of one mount, held by the metadata service so that every mount
 * sees them (the state machine's lock table, keyed by this mount's client id and the kernel's
 * lock owner). A blocking request (F_SETLKW, flock without LOCK_NB) polls until the lock is
 * granted. The locks belong to the mount's session ({@link MountSession}), which keeps itself
 * alive; a mount that dies stops, and its locks lapse after the server's session TTL.
 *
 * <p>libfuse asks to unlock on every close of every file: an unlock for an owner that never
 * locked anything on the inode is answered here, without a call.
 */
final class LockClient implements AutoCloseable {
  private static final long MAX_POLL_MS = 200;

  private final MetaClient meta;
  /** "inode/kind/owner" of every owner that may hold a lock on the inode. */
  private final Set<String> mayHold = ConcurrentHashMap.newKeySet();

  LockClient(MetaClient meta) {
    this.meta = meta;
  }

  /**
   * Takes, converts or releases a lock on [start, end) (end 0: to EOF); EAGAIN if in use. A
   * blocking request polls while {@code stillWanted} holds: a waiter that was killed must not be
   * granted a lock nobody would ever release.
   */
  void set(Caller caller, long inode, LockKind kind, long owner, LockType type, long start,
      long end, int pid, boolean wait, BooleanSupplier stillWanted) throws RpcException {
    String key = inode + "/" + kind.getNumber() + "/" + owner;
    if (type == LockType.UNLOCK && !mayHold.contains(key)) {
      return;
    }
    if (type != LockType.UNLOCK) {
      mayHold.add(key);
    }
    long pollMs = 5;
    while (true) {
      try {
        meta.call(caller, MetaRequest.newBuilder().setSetLock(SetLockOp.newBuilder()
            .setInode(inode)
            .setOwner(owner)
            .setKind(kind)
            .setType(type)
            .setStart(start)
            .setEnd(end)
            .setPid(pid)
            .setNowNs(NanoTimes.nowNs())));
        break;
      } catch (RpcException e) {
        if (e.status() != Status.EAGAIN || !wait) {
          throw e;
        }
      }
      if (!stillWanted.getAsBoolean()) {
        throw new RpcException(Status.EAGAIN, "the waiter is gone");
      }
      try {
        Thread.sleep(pollMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RpcException(Status.EINVAL, "interrupted while waiting for a lock");
      }
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
    if (type == LockType.UNLOCK && start == 0 && end == 0) {
      mayHold.remove(key);
    }
  }

  /** The lock of another owner that conflicts with the one described, or null (F_GETLK). */
  LockRange conflict(Caller caller, long inode, LockKind kind, long owner, LockType type,
      long start, long end) throws RpcException {
    MetaResponse r = meta.call(caller, MetaRequest.newBuilder().setGetLock(GetLockOp.newBuilder()
        .setInode(inode)
        .setOwner(owner)
        .setKind(kind)
        .setType(type)
        .setStart(start)
        .setEnd(end)
        .setClientId(meta.clientId())
        .setNowNs(NanoTimes.nowNs())));
    return r.hasConflict() ? r.getConflict() : null;
  }

  /** False once {@code pid} has exited (gone, or a zombie); true when it cannot be told. */
  static boolean isLiveProcess(int pid) {
    if (pid <= 0) {
      return true;
    }
    try {
      String stat = java.nio.file.Files.readString(
          java.nio.file.Path.of("/proc", Integer.toString(pid), "stat"));
      int close = stat.lastIndexOf(')');
      return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
    } catch (java.nio.file.NoSuchFileException e) {
      return false;
    } catch (java.io.IOException | RuntimeException e) {
      return true;
    }
  }

  @Override
  public void close() {
    mayHold.clear();
  }
}
