package io.shoalfs.client;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A data plane in a map, for testing how ranges become chunk requests: chunks hold exactly the
 * bytes written (a chunk never written is absent, a gap inside a chunk reads as zeros, a read
 * past a chunk's end comes back short, as shoal.proto specifies).
 */
final class ChunkStoreTransport implements ShoalTransport {
  final Map<String, byte[]> chunks = new ConcurrentHashMap<>();
  final List<DataRequest> dataRequests = new ArrayList<>();
  final List<MetaRequest> metaRequests = new ArrayList<>();
  /** Every request's op, meta and data, in the order sent ("meta:SET_ATTR", "data:TRUNCATE"). */
  final List<String> order = new ArrayList<>();
  final long chunkSize;
  volatile Status failWith = Status.OK;
  volatile Function<MetaRequest, MetaResponse> metaAnswers =
      r -> MetaResponse.getDefaultInstance();

  ChunkStoreTransport(long chunkSize) {
    this.chunkSize = chunkSize;
  }

  static String key(long inode, int index) {
    return inode + "/" + index;
  }

  @Override
  public synchronized CompletableFuture<MetaResponse> meta(MetaRequest request) {
    metaRequests.add(request);
    order.add("meta:" + request.getOpCase());
    return CompletableFuture.completedFuture(metaAnswers.apply(request));
  }

  @Override
  public synchronized CompletableFuture<DataResponse> data(long inode, DataRequest request) {
    dataRequests.add(request);
    order.add("data:" + request.getOpCase());
    if (failWith != Status.OK) {
      return CompletableFuture.completedFuture(
          DataResponse.newBuilder().setStatus(failWith).setError("injected").build());
    }
    DataResponse.Builder answer = DataResponse.newBuilder();
    switch (request.getOpCase()) {
      case WRITE -> write(request.getWrite());
      case READ -> answer.setData(read(request.getRead()));
      case TRUNCATE -> truncate(request.getTruncate().getInode(), request.getTruncate().getSize());
      case SYNC -> { }
      default -> throw new IllegalArgumentException("not faked: " + request.getOpCase());
    }
    return CompletableFuture.completedFuture(answer.build());
  }

  private void write(WriteChunkOp op) {
    String k = key(op.getChunk().getInode(), op.getChunk().getIndex());
    byte[] old = chunks.getOrDefault(k, new byte[0]);
    int end = (int) op.getOffset() + op.getData().size();
    byte[] now = Arrays.copyOf(old, Math.max(old.length, end));
    op.getData().copyTo(now, (int) op.getOffset());
    chunks.put(k, now);
  }

  private void truncate(long inode, long size) {
    String prefix = inode + "/";
    for (String k : List.copyOf(chunks.keySet())) {
      if (!k.startsWith(prefix)) {
        continue;
      }
      long start = Long.parseLong(k.substring(prefix.length())) * chunkSize;
      if (start >= size) {
        chunks.remove(k);
      } else if (start + chunks.get(k).length > size) {
        chunks.put(k, Arrays.copyOf(chunks.get(k), (int) (size - start)));
      }
    }
  }

  private ByteString read(ReadChunkOp op) {
    byte[] chunk = chunks.get(key(op.getChunk().getInode(), op.getChunk().getIndex()));
    if (chunk == null || op.getOffset() >= chunk.length) {
      return ByteString.EMPTY;
    }
    int from = (int) op.getOffset();
    int to = (int) Math.min(chunk.length, op.getOffset() + op.getLength());
    return ByteString.copyFrom(chunk, from, to - from);
  }

  @Override
  public void close() {}
}
