package io.shoalfs.client;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.rpc.RpcException;

/**
 * truncate(2) on an inode. The data plane is cut first, to min(new size, old size): bytes past
 * the old end (left by a write that was never committed, say) must never reappear when the file
 * grows, and bytes past a new, smaller end must be gone before metadata says so.
 */
final class Truncator {
  private final MetaClient meta;
  private final DataClient data;
  private final FileHandleTable handles;

  Truncator(MetaClient meta, DataClient data, FileHandleTable handles) {
    this.meta = meta;
    this.data = data;
    this.handles = handles;
  }

  void truncate(Caller caller, long inode, long newSize) throws RpcException {
    if (newSize < 0) {
      throw new RpcException(io.shoalfs.proto.Status.EINVAL, "negative size " + newSize);
    }
    long oldSize = handles.effectiveSize(inode, meta.getAttr(caller, inode).getSize());
    // Before anything else, so that a flush racing with us cannot commit the old end back.
    handles.truncated(inode, newSize);
    data.truncate(inode, Math.min(newSize, oldSize));
    meta.call(caller, MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder()
        .setInode(inode)
        .setValid(SetAttrBits.SIZE)
        .setSize(newSize)
        .setNowNs(FuseTimes.nowNs())));
  }
}
