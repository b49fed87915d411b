package io.shoalfs.client;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.Collection;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Makes written data part of the file: a CommitWriteOp carries the end of what a handle wrote
 * to metadata (sent on flush, fsync and release, only when the handle wrote something), in
 * the name of whoever opened the handle.
 */
final class WriteCommitter {
  private final MetaClient meta;
  private final DataClient data;
  private final WriteBehind writeBehind;
  private final ChunkLocations locations;

  WriteCommitter(MetaClient meta, DataClient data, WriteBehind writeBehind,
      ChunkLocations locations) {
    this.meta = meta;
    this.data = data;
    this.writeBehind = writeBehind;
    this.locations = locations;
  }

  /**
   * Sends what the handle still buffers, then commits its end, with the times it holds
   * (PendingTimes) in the same entry when it holds any.
   */
  void commit(OpenFile file) throws RpcException {
    Optional<CommitWriteOp> op = drainForCommit(file);
    PendingTimes times = file.takeTimes();
    if (op.isEmpty() && times == null) {
      return;
    }
    if (times == null) {
      commitAlone(file, op.get());
      return;
    }
    SetAttrOp.Builder withTimes = SetAttrOp.newBuilder()
        .setInode(file.inode())
        .setNowNs(NanoTimes.nowNs());
    times.addTo(withTimes);
    op.ifPresent(withTimes::setCommit);
    try {
      meta.call(times.caller(), MetaRequest.newBuilder().setSetAttr(withTimes));
    } catch (RpcException e) {
      if (op.isPresent() && isRefusal(e)) {
        // The times were refused (the caller lost the right since the kernel checked it):
        // they are dropped, and the data still lands. The refusal is the answer.
        commitAlone(file, op.get());
        throw e;
      }
      if (op.isPresent()) {
        file.markDirty();
      }
      file.restoreTimes(times);
      throw e;
    }
  }

  /**
   * Sets attributes of a file that handles of this mount ({@code open}) may have written
   * without committing. Those writes are committed first, since a commit after the setattr
   * would move mtime past the times it set; the first handle's commit travels in the
   * setattr's own log entry (SetAttrOp.commit), which saves a round trip through the log for
   * every file `cp -a`, rsync or tar writes. If the setattr fails, neither was applied and the
   * handle stays dirty for its next flush.
   *
   * <p>Explicit times alone, on a file a handle has written and not committed, are not sent
   * now: the handle holds them for its commit (PendingTimes), and the answer is null. Times a
   * handle holds are added to a setattr by the same caller that carries its commit.
   */
  MetaResponse setAttr(Caller caller, SetAttrOp.Builder op, Collection<OpenFile> open)
      throws RpcException {
    if (PendingTimes.canWait(op)) {
      PendingTimes times = PendingTimes.of(caller, op);
      for (OpenFile file : open) {
        if (file.holdTimes(times)) {
          return null;
        }
      }
    }
    OpenFile carried = null;
    PendingTimes carriedTimes = null;
    for (OpenFile file : open) {
      if (carried != null) {
        commit(file);
        continue;
      }
      PendingTimes times = file.takeTimes();
      if (times != null && !times.caller().equals(caller)) {
        // Someone else's times go in their own name, with this handle's commit.
        file.restoreTimes(times);
        commit(file);
        continue;
      }
      Optional<CommitWriteOp> commit = drainForCommit(file);
      if (commit.isPresent()) {
        op.setCommit(commit.get());
        carried = file;
      }
      if (times != null) {
        times.addTo(op);
        carried = file;
        carriedTimes = times;
      }
    }
    try {
      return meta.call(caller, MetaRequest.newBuilder().setSetAttr(op));
    } catch (RpcException e) {
      if (carried != null) {
        if (op.hasCommit()) {
          carried.markDirty();
        }
        if (carriedTimes != null) {
          carried.restoreTimes(carriedTimes);
        }
      }
      throw e;
    }
  }

  private void commitAlone(OpenFile file, CommitWriteOp op) throws RpcException {
    try {
      meta.call(file.opener(), MetaRequest.newBuilder().setCommitWrite(op));
    } catch (RpcException e) {
      file.markDirty(); // the next flush/release tries again
      throw e;
    }
  }

  /** A status that means "not allowed", as opposed to "not reachable now". */
  private static boolean isRefusal(RpcException e) {
    return e.status() == Status.EPERM || e.status() == Status.EACCES;
  }

  /**
   * Sends what the handle still buffers and returns the commit it now owes; empty when it
   * wrote nothing. A caller whose request then fails must {@link OpenFile#markDirty()} the
   * handle: its next flush commits.
   */
  private Optional<CommitWriteOp> drainForCommit(OpenFile file) throws RpcException {
    writeBehind.drain(file);
    OptionalLong end = file.takeDirtyEnd();
    if (end.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(CommitWriteOp.newBuilder()
        .setInode(file.inode())
        .setEndOffset(end.getAsLong())
        .setNowNs(NanoTimes.nowNs())
        .build());
  }

  /** Data durable first, then the size that makes it visible. */
  void fsync(OpenFile file) throws RpcException {
    writeBehind.drain(file);
    data.sync(file.inode(), locations.cachedOf(file.inode()));
    commit(file);
  }
}
