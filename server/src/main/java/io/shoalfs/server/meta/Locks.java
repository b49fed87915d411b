package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.GetLockOp;
import io.shoalfs.proto.KeepAliveOp;
import io.shoalfs.proto.LockKind;
import io.shoalfs.proto.LockRange;
import io.shoalfs.proto.LockType;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.SetLockOp;
import io.shoalfs.proto.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * Advisory locks (flock(2) and fcntl(2) byte ranges) in the replicated store, so that every
 * mount sees every lock ('F' and 'S' keys in {@link KeySchema}). An owner is (client id, the
 * kernel's lock owner). Read locks share, a write lock excludes; an owner's new lock replaces
 * its own locks in the range (splitting a lock it covers partly), as fcntl(2) does.
 *
 * <p>Clients keep their session ({@link Sessions}) alive with every lock call and with
 * {@link KeepAliveOp}. A lock whose client has not been seen for {@link #SESSION_TTL_NS}, or
 * whose session ended, is dead: when it is in another owner's
 * way it is dropped (with the rest of that client's locks on the inode). Time comes from the
 * op's now_ns, so apply stays deterministic.
 */
final class Locks {

  /** A mount silent this long is dead; every mount sends a keep-alive every 5 s. */
  static final long SESSION_TTL_NS = 20_000_000_000L;
  /** Internal end of a lock that runs to the end of the file. */
  private static final long TO_EOF = Long.MAX_VALUE;

  private final KvReader kv;
  private final Sessions sessions;

  Locks(KvReader kv) {
    this.kv = kv;
    this.sessions = new Sessions(kv);
  }

  MetaResponse set(long clientId, SetLockOp op, KvBatch batch) {
    Status valid = check(op.getKind(), op.getType(), op.getStart(), op.getEnd());
    if (valid != Status.OK) {
      return Replies.fail(valid, "bad lock request");
    }
    sessions.seenAt(clientId, op.getNowNs(), batch);
    long start = op.getStart();
    long end = endOf(op.getEnd());
    int kind = op.getKindValue();
    List<LockRange> held = locks(op.getInode(), kind);
    if (op.getType() != LockType.UNLOCK) {
      for (LockRange l : held) {
        if (!isOwn(l, clientId, op.getOwner()) && overlaps(l, start, end)
            && (op.getType() == LockType.WRITE_LOCK || l.getType() == LockType.WRITE_LOCK)) {
          if (!isAlive(l.getClientId(), op.getNowNs())) {
            dropClient(batch, op.getInode(), kind, l.getClientId(), held);
            continue;
          }
          return MetaResponse.newBuilder().setStatus(Status.EAGAIN)
              .setError("lock held by another owner").setConflict(l).build();
        }
      }
    }
    for (LockRange l : held) {
      if (isOwn(l, clientId, op.getOwner()) && overlaps(l, start, end)) {
        batch.delete(key(op.getInode(), kind, l));
        long lEnd = endOf(l.getEnd());
        if (l.getStart() < start) {
          put(batch, op.getInode(), kind, l.toBuilder().setEnd(start).build());
        }
        if (lEnd > end) {
          put(batch, op.getInode(), kind, l.toBuilder().setStart(end).build());
        }
      }
    }
    if (op.getType() != LockType.UNLOCK) {
      put(batch, op.getInode(), kind, LockRange.newBuilder()
          .setType(op.getType())
          .setStart(start)
          .setEnd(op.getEnd())
          .setPid(op.getPid())
          .setClientId(clientId)
          .setOwner(op.getOwner())
          .build());
    }
    return Replies.ok();
  }

  /** F_GETLK: the first lock of another live owner in the way, or none. */
  MetaResponse get(GetLockOp op) {
    Status valid = check(op.getKind(), op.getType(), op.getStart(), op.getEnd());
    if (valid != Status.OK) {
      return Replies.fail(valid, "bad lock request");
    }
    long start = op.getStart();
    long end = endOf(op.getEnd());
    for (LockRange l : locks(op.getInode(), op.getKindValue())) {
      if (!isOwn(l, op.getClientId(), op.getOwner()) && overlaps(l, start, end)
          && (op.getType() == LockType.WRITE_LOCK || l.getType() == LockType.WRITE_LOCK)
          && isAlive(l.getClientId(), op.getNowNs())) {
        return MetaResponse.newBuilder().setStatus(Status.OK).setConflict(l).build();
      }
    }
    return Replies.ok();
  }

  MetaResponse keepAlive(long clientId, KeepAliveOp op, KvBatch batch) {
    sessions.seenAt(clientId, op.getNowNs(), batch);
    return Replies.ok();
  }

  private static Status check(LockKind kind, LockType type, long start, long end) {
    if (kind != LockKind.POSIX && kind != LockKind.FLOCK) {
      return Status.EINVAL;
    }
    if (type != LockType.READ_LOCK && type != LockType.WRITE_LOCK && type != LockType.UNLOCK) {
      return Status.EINVAL;
    }
    if (start < 0 || end < 0 || (end != 0 && end <= start)) {
      return Status.EINVAL;
    }
    return Status.OK;
  }

  private boolean isAlive(long clientId, long nowNs) {
    return sessions.seenWithin(clientId, nowNs, SESSION_TTL_NS);
  }

  private void dropClient(KvBatch batch, long ino, int kind, long clientId, List<LockRange> held) {
    for (LockRange l : held) {
      if (l.getClientId() == clientId) {
        batch.delete(key(ino, kind, l));
      }
    }
  }

  private List<LockRange> locks(long ino, int kind) {
    List<LockRange> out = new ArrayList<>();
    kv.scan(KeySchema.lockPrefix(ino, kind), KeySchema.lockPrefix(ino, kind), (k, v) -> {
      try {
        out.add(LockRange.parseFrom(v));
      } catch (InvalidProtocolBufferException e) {
        throw new KvException("unreadable lock under " + ino, e);
      }
      return true;
    });
    return out;
  }

  private static boolean isOwn(LockRange l, long clientId, long owner) {
    return l.getClientId() == clientId && l.getOwner() == owner;
  }

  private static boolean overlaps(LockRange l, long start, long end) {
    return l.getStart() < end && start < endOf(l.getEnd());
  }

  private static long endOf(long end) {
    return end == 0 ? TO_EOF : end;
  }

  private static byte[] key(long ino, int kind, LockRange l) {
    return KeySchema.lock(ino, kind, l.getClientId(), l.getOwner(), l.getStart());
  }

  private static void put(KvBatch batch, long ino, int kind, LockRange l) {
    batch.put(key(ino, kind, l), l.toByteArray());
  }
}
