package io.shoalfs.client;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.CapabilityRecall;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.CompletableFuture;

/**
 * How the FUSE layer reaches the cluster. The futures complete with the server's answer,
 * whatever its status; they complete exceptionally with an {@link io.shoalfs.rpc.RpcException}
 * only when no answer came (no server, timeout, lost connection).
 *
 * <p>Metadata goes to whichever metadata endpoint answers (any forwards it to the metadata
 * group). Data goes to one named member: chunks are replicated, and only the chunk map says
 * which data nodes hold a chunk, so the caller picks the address (see {@link ChunkLocations}).
 */
public interface ShoalTransport extends AutoCloseable {

  CompletableFuture<MetaResponse> meta(MetaRequest request);

  /** A data operation sent to the member at {@code address} (host:port), with no failover. */
  CompletableFuture<DataResponse> dataAt(String address, DataRequest request);

  /**
   * The members as this client sees them now: id, address, state (up, down, dead) and roles,
   * ordered by id; read them through {@link io.shoalfs.cluster.ClusterView}. Cheap enough to
   * ask once per file operation.
   */
  List<MemberInfo> members();

  /**
   * {@code listener} gets every capability recall a server sends this mount unasked; it runs on
   * a connection's thread and must not block. Transports that never receive one ignore it.
   */
  default void onRecall(Consumer<CapabilityRecall> listener) { }

  @Override
  void close();
}
