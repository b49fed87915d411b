package io.shoalfs.client;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * truncate(2) on an inode. The data plane is cut first, to min(new size, old size): bytes past
 * the old end (left by a write that was never committed, say) must never reappear when the file
 * grows, and bytes past a new, smaller end must be gone before metadata says so.
 *
 * <p>With replicated chunks, a member that is down cannot be cut. So first every chunk at or
 * past the cut that has a replica not on an up data node is allocated again: the chunk map
 * drops the down replicas and bumps the version, and their stale copies are never read again.
 * (A chunk whose replicas are all on up data nodes is left alone: allocate would change
 * nothing, and it costs a metadata write.) Then every data node that is up, and every member
 * still holding such a chunk, cuts its copies.
 */
final class Truncator {
  private final MetaClient meta;
  private final DataClient data;
  private final ChunkLocations locations;
  private final ShoalTransport transport;
  private final FileHandleTable handles;
  private final long chunkSize;

  Truncator(MetaClient meta, DataClient data, ChunkLocations locations, ShoalTransport transport,
      FileHandleTable handles, long chunkSize) {
    this.meta = meta;
    this.data = data;
    this.locations = locations;
    this.transport = transport;
    this.handles = handles;
    this.chunkSize = chunkSize;
  }

  void truncate(Caller caller, long inode, long newSize) throws RpcException {
    if (newSize < 0) {
      throw new RpcException(Status.EINVAL, "negative size " + newSize);
    }
    long oldSize = handles.effectiveSize(inode, meta.getAttr(caller, inode).getSize());
    // Before anything else, so that a flush racing with us cannot commit the old end back.
    handles.truncated(inode, newSize);
    long cut = Math.min(newSize, oldSize);
    Set<String> holders = dropDownReplicas(inode, cut, oldSize);
    data.truncate(inode, cut, holders);
    meta.call(caller, MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder()
        .setInode(inode)
        .setValid(SetAttrBits.SIZE)
        .setSize(newSize)
        .setNowNs(NanoTimes.nowNs())));
  }

  /**
   * Allocates again each chunk in [cut, oldEnd) with a replica not on an up data node; returns
   * the member ids that hold a chunk there afterwards.
   */
  private Set<String> dropDownReplicas(long inode, long cut, long oldEnd) throws RpcException {
    long first = cut / chunkSize;
    long end = Math.max(first + 1, (oldEnd + chunkSize - 1) / chunkSize);
    MemberView view = MemberView.of(transport);
    Set<String> holders = new LinkedHashSet<>();
    for (ChunkLocation loc : locations.fetch(inode, first, end - first).values()) {
      ChunkLocation now = view.allOnDataNodes(loc.getReplicasList())
          ? loc
          : locations.allocate(loc.getChunk());
      holders.addAll(now.getReplicasList());
    }
    return holders;
  }
}
