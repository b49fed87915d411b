package io.shoalfs.client;

import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.rpc.RpcException;
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

  WriteCommitter(MetaClient meta, DataClient data, WriteBehind writeBehind) {
    this.meta = meta;
    this.data = data;
    this.writeBehind = writeBehind;
  }

  /** Sends what the handle still buffers, then commits its end. */
  void commit(OpenFile file) throws RpcException {
    writeBehind.drain(file);
    OptionalLong end = file.takeDirtyEnd();
    if (end.isEmpty()) {
      return;
    }
    try {
      meta.call(file.opener(), MetaRequest.newBuilder().setCommitWrite(CommitWriteOp.newBuilder()
          .setInode(file.inode())
          .setEndOffset(end.getAsLong())
          .setNowNs(FuseTimes.nowNs())));
    } catch (RpcException e) {
      file.markDirty(); // the next flush/release tries again
      throw e;
    }
  }

  /** Data durable first, then the size that makes it visible. */
  void fsync(OpenFile file) throws RpcException {
    writeBehind.drain(file);
    data.sync(file.inode());
    commit(file);
  }
}
