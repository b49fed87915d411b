package io.shoalfs.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import jnr.ffi.Pointer;

/**
 * Reads and writes a byte range of a file as per-chunk requests. Chunk {@code i} of a file is
 * the range {@code [i * chunkSize, (i + 1) * chunkSize)}; a range that straddles chunks becomes
 * one request per chunk, all sent at once.
 */
final class ChunkedIo {
  /** How a read learns the file size, asked only when some chunk came back short. */
  @FunctionalInterface
  interface SizeSource {
    long size() throws RpcException;
  }

  /** The part of a range that falls in one chunk, and where it sits in the caller's buffer. */
  record Piece(long index, long chunkOffset, int length, long bufferOffset) {}

  private static final long MAX_CHUNK_INDEX = 0xFFFF_FFFFL; // ChunkId.index is a uint32

  private final ShoalTransport transport;
  private final long chunkSize;
  private final Duration timeout;

  ChunkedIo(ShoalTransport transport, long chunkSize, Duration timeout) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size must be positive: " + chunkSize);
    }
    this.transport = transport;
    this.chunkSize = chunkSize;
    this.timeout = timeout;
  }

  /** Splits {@code [offset, offset + length)} at chunk boundaries, in file order. */
  static List<Piece> split(long offset, long length, long chunkSize) {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("negative range " + offset + "+" + length);
    }
    List<Piece> pieces = new ArrayList<>();
    long pos = offset;
    long end = offset + length;
    while (pos < end) {
      long index = pos / chunkSize;
      long inChunk = pos % chunkSize;
      int len = (int) Math.min(chunkSize - inChunk, end - pos);
      pieces.add(new Piece(index, inChunk, len, pos - offset));
      pos += len;
    }
    return pieces;
  }

  /**
   * Reads up to {@code size} bytes at {@code offset} into {@code dst} and returns how many bytes
   * of the file that is: fewer only at the end of the file. Bytes inside the file that no chunk
   * holds (a hole, or a chunk never written) read as zeros.
   */
  int read(long inode, long offset, int size, Pointer dst, SizeSource fileSize)
      throws RpcException {
    List<Piece> pieces = split(offset, size, chunkSize);
    List<CompletableFuture<DataResponse>> replies = new ArrayList<>(pieces.size());
    for (Piece p : pieces) {
      ReadChunkOp op = ReadChunkOp.newBuilder()
          .setChunk(chunkId(inode, p.index()))
          .setOffset(p.chunkOffset())
          .setLength(p.length())
          .build();
      replies.add(transport.data(inode, DataRequest.newBuilder().setRead(op).build()));
    }
    int[] present = new int[pieces.size()];
    boolean anyShort = false;
    RpcException failure = null;
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      try {
        ByteString data = readBytes(replies.get(i));
        int n = Math.min(data.size(), p.length());
        copyInto(data, n, dst, p.bufferOffset());
        present[i] = n;
        anyShort |= n < p.length();
      } catch (RpcException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
    if (!anyShort) {
      return size;
    }
    // Some chunk had fewer bytes than asked: either the end of the file or a hole inside it.
    long readable = Math.max(0, Math.min(size, fileSize.size() - offset));
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      long gapStart = p.bufferOffset() + present[i];
      long gapEnd = Math.min(p.bufferOffset() + p.length(), readable);
      if (gapEnd > gapStart) {
        dst.setMemory(gapStart, gapEnd - gapStart, (byte) 0);
      }
    }
    return (int) readable;
  }

  /** Writes {@code size} bytes of {@code src} at {@code offset}; returns once every chunk has. */
  void write(long inode, long offset, Pointer src, int size, boolean sync) throws RpcException {
    List<Piece> pieces = split(offset, size, chunkSize);
    List<CompletableFuture<DataResponse>> replies = new ArrayList<>(pieces.size());
    for (Piece p : pieces) {
      byte[] bytes = new byte[p.length()];
      src.get(p.bufferOffset(), bytes, 0, p.length());
      WriteChunkOp op = WriteChunkOp.newBuilder()
          .setChunk(chunkId(inode, p.index()))
          .setOffset(p.chunkOffset())
          // The array is ours alone and never changed again: no second copy.
          .setData(UnsafeByteOperations.unsafeWrap(bytes))
          .setSync(sync)
          .build();
      replies.add(transport.data(inode, DataRequest.newBuilder().setWrite(op).build()));
    }
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

  private ByteString readBytes(CompletableFuture<DataResponse> reply) throws RpcException {
    DataResponse response = Replies.await(reply, timeout);
    // A chunk that was never written is a hole, whether the server says so with no bytes
    // or with ENOENT.
    if (response.getStatus() == Status.ENOENT) {
      return ByteString.EMPTY;
    }
    return Replies.ok(response).getData();
  }

  private static void copyInto(ByteString data, int n, Pointer dst, long at) {
    if (n == 0) {
      return;
    }
    byte[] bytes = n == data.size() ? data.toByteArray() : data.substring(0, n).toByteArray();
    dst.put(at, bytes, 0, n);
  }

  private static ChunkId chunkId(long inode, long index) throws RpcException {
    if (index > MAX_CHUNK_INDEX) {
      throw new RpcException(Status.EFBIG, "offset beyond the last chunk");
    }
    return ChunkId.newBuilder().setInode(inode).setIndex((int) index).build();
  }
}
