package io.shoalfs.server.data;

import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One data node for tests: a real LocalDataPlane in its own directory behind a real
 * RpcServer on a loopback port, forwarding over real connections.
 */
final class DataNode implements AutoCloseable {
  static final int MAX_FRAME = DownstreamClients.DEFAULT_MAX_FRAME_BYTES;

  final String id;
  final Path dir;
  final LocalDataPlane plane;
  final String address;
  private final RpcServer server;
  private final ExecutorService dispatch;
  private boolean closed;

  private DataNode(String id, Path dir, LocalDataPlane plane, RpcServer server,
      ExecutorService dispatch, int port) {
    this.id = id;
    this.dir = dir;
    this.plane = plane;
    this.server = server;
    this.dispatch = dispatch;
    this.address = "127.0.0.1:" + port;
  }

  static DataNode start(String id, Path dir, DataPlaneSettings settings,
      ReplicaSettings replicas) throws Exception {
    LocalDataPlane plane = new LocalDataPlane(settings, null, replicas);
    plane.start();
    ExecutorService dispatch = Executors.newFixedThreadPool(2);
    RpcServer server = new RpcServer("127.0.0.1", 0, MAX_FRAME, request -> {
      if (!request.hasDataRequest()) {
        return CompletableFuture.completedFuture(Envelope.newBuilder()
            .setStatus(Status.UNKNOWN_TYPE).build());
      }
      return plane.handle(request.getDataRequest())
          .thenApply(r -> Envelope.newBuilder().setDataResponse(r).build());
    }, dispatch);
    int port = server.start();
    return new DataNode(id, dir, plane, server, dispatch, port);
  }

  ChunkStore store() {
    return plane.chunkStore();
  }

  DataResponse call(DataRequest request) throws Exception {
    return plane.handle(request).get(30, TimeUnit.SECONDS);
  }

  static ChunkId chunk(long inode, int index) {
    return ChunkId.newBuilder().setInode(inode).setIndex(index).build();
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    server.close();
    dispatch.shutdownNow();
    plane.close();
  }
}
