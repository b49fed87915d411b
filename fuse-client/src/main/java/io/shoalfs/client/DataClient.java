package io.shoalfs.client;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.StatFsOp;
import io.shoalfs.proto.SyncFileOp;
import io.shoalfs.proto.TruncateFileOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;

/** The whole-file data operations: truncate, sync and the capacity figures for statfs. */
final class DataClient {
  /** statfs concerns no file; the transport is free to ask any data server. */
  static final long NO_INODE = 0;

  private final ShoalTransport transport;
  private final Duration timeout;

  DataClient(ShoalTransport transport, Duration timeout) {
    this.transport = transport;
    this.timeout = timeout;
  }

  void truncate(long inode, long size) throws RpcException {
    call(inode, DataRequest.newBuilder()
        .setTruncate(TruncateFileOp.newBuilder().setInode(inode).setSize(size)).build());
  }

  void sync(long inode) throws RpcException {
    call(inode, DataRequest.newBuilder().setSync(SyncFileOp.newBuilder().setInode(inode)).build());
  }

  DataResponse statFs() throws RpcException {
    return call(NO_INODE, DataRequest.newBuilder().setStatFs(StatFsOp.getDefaultInstance()).build());
  }

  private DataResponse call(long inode, DataRequest request) throws RpcException {
    return Replies.ok(Replies.await(transport.data(inode, request), timeout));
  }
}
