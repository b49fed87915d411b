package io.shoalfs.client;

import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.StatFsOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SyncFileOp;
import io.shoalfs.proto.TruncateFileOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The whole-file data operations: truncate, sync and the capacity figures for statfs. Any data
 * node may hold chunks of any file, so each goes to every data node that is up, all at once; a
 * member that serves metadata only stores nothing and is not asked.
 */
final class DataClient {
  private static final String NO_DATA_NODE = "no data node is up";

  private final ShoalTransport transport;
  private final Duration timeout;

  DataClient(ShoalTransport transport, Duration timeout) {
    this.transport = transport;
    this.timeout = timeout;
  }

  /**
   * Cuts the file's data on every data node that is up, and on the {@code holders} (member ids
   * that hold chunks past the cut) even if this client's view has them down: the chunk map, not
   * this view, decides who is a replica. Fails if any of them fails, since a copy left long would
   * bring the cut bytes back. (Members that are down were dropped from the chunks first: see
   * {@link Truncator}.)
   */
  void truncate(long inode, long size, Collection<String> holders) throws RpcException {
    DataRequest request = DataRequest.newBuilder()
        .setTruncate(TruncateFileOp.newBuilder().setInode(inode).setSize(size)).build();
    MemberView view = MemberView.of(transport);
    Set<String> addresses = new LinkedHashSet<>();
    view.dataNodes().forEach(m -> addresses.add(m.getAddress()));
    for (String id : holders) {
      addresses.add(view.address(id));
    }
    awaitAll(send(addresses, request));
  }

  /**
   * Makes the file's data durable on every data node that is up and can be reached. One that
   * cannot (killed a moment ago: it stays up in the view until its lease runs out) is left out
   * as long as some data node synced and each chunk in {@code written} has a replica that did:
   * a write was acknowledged only once every replica had it, and a replica gone with its server
   * is dropped by the next write or the healer. Any other failure is the answer.
   */
  void sync(long inode, Collection<ChunkLocation> written) throws RpcException {
    DataRequest request = DataRequest.newBuilder()
        .setSync(SyncFileOp.newBuilder().setInode(inode)).build();
    List<MemberInfo> up = MemberView.of(transport).dataNodes();
    if (up.isEmpty()) {
      throw new RpcException(Status.UNAVAILABLE, NO_DATA_NODE);
    }
    List<CompletableFuture<DataResponse>> replies = new ArrayList<>(up.size());
    for (MemberInfo m : up) {
      replies.add(transport.dataAt(m.getAddress(), request));
    }
    Set<String> synced = new HashSet<>();
    RpcException unreachable = null;
    RpcException failure = null;
    for (int i = 0; i < up.size(); i++) {
      try {
        Replies.ok(Replies.await(replies.get(i), timeout));
        synced.add(up.get(i).getId());
      } catch (RpcException e) {
        if (Replies.isUnreachable(e)) {
          unreachable = unreachable == null ? e : unreachable;
        } else {
          failure = failure == null ? e : failure;
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    if (synced.isEmpty()) {
      throw unreachable;
    }
    for (ChunkLocation chunk : written) {
      if (chunk.getReplicasList().stream().noneMatch(synced::contains)) {
        // Either its replicas could not be reached, or none of them is up in this view.
        String chunkName = chunk.getChunk().getInode() + "/"
            + ChunkLocations.indexOf(chunk.getChunk());
        throw unreachable == null
            ? new RpcException(Status.UNAVAILABLE, "no replica of chunk " + chunkName + " is up")
            : new RpcException(unreachable.status(), "no replica of chunk " + chunkName
                + " could be synced: " + unreachable.getMessage());
      }
    }
  }

  /**
   * The space of the data nodes that are up, summed: raw bytes, as a replicated store's df
   * shows them (each byte written takes as many raw bytes as there are replicas). A data node
   * that does not answer is left out; none answering is the error.
   */
  DataResponse statFs() throws RpcException {
    DataRequest request = DataRequest.newBuilder().setStatFs(StatFsOp.getDefaultInstance()).build();
    List<CompletableFuture<DataResponse>> replies = send(request);
    long total = 0;
    long free = 0;
    long used = 0;
    int answered = 0;
    RpcException last = null;
    for (CompletableFuture<DataResponse> reply : replies) {
      try {
        DataResponse r = Replies.ok(Replies.await(reply, timeout));
        total += r.getTotalBytes();
        free += r.getFreeBytes();
        used += r.getUsedBytes();
        answered++;
      } catch (RpcException e) {
        last = e;
      }
    }
    if (answered == 0) {
      throw last != null ? last : new RpcException(Status.UNAVAILABLE, NO_DATA_NODE);
    }
    return DataResponse.newBuilder()
        .setTotalBytes(total)
        .setFreeBytes(free)
        .setUsedBytes(used)
        .build();
  }

  private void awaitAll(List<CompletableFuture<DataResponse>> replies) throws RpcException {
    RpcException failure = null;
    for (CompletableFuture<DataResponse> reply : replies) {
      try {
        Replies.ok(Replies.await(reply, timeout));
      } catch (RpcException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private List<CompletableFuture<DataResponse>> send(DataRequest request) throws RpcException {
    List<String> up = MemberView.of(transport).dataNodes().stream().map(MemberInfo::getAddress)
        .toList();
    return send(up, request);
  }

  private List<CompletableFuture<DataResponse>> send(Collection<String> addresses,
      DataRequest request) throws RpcException {
    if (addresses.isEmpty()) {
      throw new RpcException(Status.UNAVAILABLE, NO_DATA_NODE);
    }
    List<CompletableFuture<DataResponse>> replies = new ArrayList<>(addresses.size());
    for (String address : addresses) {
      replies.add(transport.dataAt(address, request));
    }
    return replies;
  }
}
