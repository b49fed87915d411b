package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ResolveOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends metadata requests for one mount: stamps the caller's credentials on every request and
 * this mount's client id plus a fresh sequence number on every mutation, so that the state
 * machine can answer a retried mutation from its reply table instead of applying it twice.
 */
final class MetaClient {
  private final ShoalTransport transport;
  private final Duration timeout;
  private final long clientId;
  private final AtomicLong nextSeq = new AtomicLong(1);

  MetaClient(ShoalTransport transport, Duration timeout, long clientId) {
    this.transport = transport;
    this.timeout = timeout;
    this.clientId = clientId;
  }

  long clientId() {
    return clientId;
  }

  /** Sends the request and returns the answer; any status but OK is thrown. */
  MetaResponse call(Caller caller, MetaRequest.Builder request) throws RpcException {
    request.setCaller(caller);
    if (isMutation(request.getOpCase())) {
      request.setClientId(clientId).setRequestSeq(nextSeq.getAndIncrement());
    }
    return Replies.ok(Replies.await(transport.meta(request.build()), timeout));
  }

  Attr getAttr(Caller caller, long inode) throws RpcException {
    return call(caller, MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(inode)))
        .getAttr();
  }

  Attr resolve(Caller caller, String path) throws RpcException {
    return call(caller, MetaRequest.newBuilder().setResolve(ResolveOp.newBuilder().setPath(path)))
        .getAttr();
  }

  static boolean isMutation(MetaRequest.OpCase op) {
    switch (op) {
      case MAKE_NODE:
      case SYMLINK:
      case LINK:
      case UNLINK:
      case RMDIR:
      case RENAME:
      case SET_ATTR:
      case COMMIT_WRITE:
      case SET_XATTR:
      case REMOVE_XATTR:
      case PURGE:
      case ALLOCATE_CHUNK:
      case REPORT_REPLICA_FAILURE:
      case ADD_REPLICA:
        return true;
      default:
        return false;
    }
  }
}
