package io.shoalfs.client;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import java.util.concurrent.CompletableFuture;

/**
 * How the FUSE layer reaches the cluster. The futures complete with the server's answer,
 * whatever its status; they complete exceptionally with an {@link io.shoalfs.rpc.RpcException}
 * only when no answer came (no server, timeout, lost connection).
 */
public interface ShoalTransport extends AutoCloseable {

  CompletableFuture<MetaResponse> meta(MetaRequest request);

  /** A data operation on the chunk(s) of {@code inode}: the transport picks the server. */
  CompletableFuture<DataResponse> data(long inode, DataRequest request);

  @Override
  void close();
}
