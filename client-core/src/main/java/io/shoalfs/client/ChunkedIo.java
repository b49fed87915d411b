package io.shoalfs.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes a byte range of a file as per-chunk requests. Chunk {@code i} of a file is
 * the range {@code [i * chunkSize, (i + 1) * chunkSize)}; a range that straddles chunks becomes
 * one request per chunk, all sent at once. Where each chunk lives comes from
 * {@link ChunkLocations} (one chunk map call for all the chunks of a range that are not cached);
 * {@link ReplicaWriter} and {@link ReplicaReader} deal with the replicas of one chunk.
 */
final class ChunkedIo {
  /** How a read learns the file size, asked only when some chunk came back short. */
  @FunctionalInterface
  interface SizeSource {
    long size() throws RpcException;
  }

  /** The part of a range that falls in one chunk, and where it sits in the caller's buffer. */
  record Piece(long index, long chunkOffset, int length, long bufferOffset) {}

  private final ShoalTransport transport;
  private final ChunkLocations locations;
  private final ReplicaWriter writer;
  private final ReplicaReader reader;
  private final long chunkSize;

  ChunkedIo(ShoalTransport transport, ChunkLocations locations, long chunkSize, Duration timeout) {
    this(transport, locations, chunkSize, timeout, ReplicaWriter.RETRY_WINDOW);
  }

  /** {@code writeRetryWindow}: how long a failing write keeps being retried, see {@link ReplicaWriter}. */
  ChunkedIo(ShoalTransport transport, ChunkLocations locations, long chunkSize, Duration timeout,
      Duration writeRetryWindow) {
    this(transport, locations, chunkSize, timeout, writeRetryWindow, ShortCircuitReads.disabled());
  }

  /** Reads try {@code shortCircuit} (a current copy on this host) before the network. */
  ChunkedIo(ShoalTransport transport, ChunkLocations locations, long chunkSize, Duration timeout,
      Duration writeRetryWindow, ShortCircuitReads shortCircuit) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size must be positive: " + chunkSize);
    }
    this.transport = transport;
    this.locations = locations;
    this.writer = new ReplicaWriter(transport, locations, timeout, writeRetryWindow);
    this.reader = new ReplicaReader(transport, locations, timeout, shortCircuit);
    this.chunkSize = chunkSize;
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
  int read(long inode, long offset, int size, ReadTarget dst, SizeSource fileSize)
      throws RpcException {
    List<Piece> pieces = split(offset, size, chunkSize);
    MemberView view = MemberView.of(transport);
    Map<Long, ChunkLocation> where = locations.lookup(inode, indices(pieces));
    // A chunk the chunk map does not know was never written: a hole, nothing to ask.
    List<ReplicaReader.Attempt> reads = new ArrayList<>(pieces.size());
    for (Piece p : pieces) {
      ChunkLocation loc = where.get(p.index());
      reads.add(loc == null ? null : reader.start(
          ChunkLocations.chunkId(inode, p.index()), p.chunkOffset(), p.length(), loc, view));
    }
    int[] present = new int[pieces.size()];
    boolean anyShort = false;
    RpcException failure = null;
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      try {
        ByteString data = reads.get(i) == null ? ByteString.EMPTY : reader.finish(reads.get(i));
        int n = Math.min(data.size(), p.length());
        TargetOutput.copy(data, 0, n, dst, p.bufferOffset());
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
        dst.zero(gapStart, gapEnd - gapStart);
      }
    }
    return (int) readable;
  }

  /**
   * Starts reading {@code [offset, offset + length)}, which must lie inside one chunk, and
   * returns the read to {@link ReplicaReader#finish} later; null when the chunk map has no such
   * chunk (a hole, or past the end). For read-ahead: the bytes may be short of {@code length}.
   */
  ReplicaReader.Attempt startPiece(long inode, long offset, int length) throws RpcException {
    long index = offset / chunkSize;
    if ((offset + length - 1) / chunkSize != index) {
      throw new IllegalArgumentException("piece " + offset + "+" + length + " crosses a chunk");
    }
    ChunkLocation loc = locations.lookup(inode, List.of(index)).get(index);
    return loc == null ? null : reader.start(ChunkLocations.chunkId(inode, index),
        offset % chunkSize, length, loc, MemberView.of(transport));
  }

  /** The bytes of a piece started by {@link #startPiece}; the failover happens here. */
  ByteString finishPiece(ReplicaReader.Attempt piece) throws RpcException {
    return piece == null ? ByteString.EMPTY : reader.finish(piece);
  }

  long chunkSize() {
    return chunkSize;
  }

  /** Writes {@code size} bytes of {@code src} at {@code offset}; returns once every chunk has. */
  void write(long inode, long offset, WriteSource src, int size, boolean sync)
      throws RpcException {
    byte[] bytes = new byte[size];
    src.copyTo(bytes, 0, size);
    write(inode, offset, bytes, size, sync);
  }

  /**
   * Writes {@code data[0, size)} at {@code offset}, every chunk's piece to all its replicas,
   * all pieces at once; returns when every piece is written. {@code data} must not change
   * afterwards: the requests share it rather than copy it.
   */
  void write(long inode, long offset, byte[] data, int size, boolean sync) throws RpcException {
    List<Piece> pieces = split(offset, size, chunkSize);
    MemberView view = MemberView.of(transport);
    Map<Long, ChunkLocation> where = locations.lookupForWrite(inode, indices(pieces));
    List<ReplicaWriter.Attempt> writes = new ArrayList<>(pieces.size());
    RpcException failure = null;
    for (Piece p : pieces) {
      WriteChunkOp op = WriteChunkOp.newBuilder()
          .setChunk(ChunkLocations.chunkId(inode, p.index()))
          .setOffset(p.chunkOffset())
          // The array is never changed again (see above): no second copy.
          .setData(UnsafeByteOperations.unsafeWrap(data, (int) p.bufferOffset(), p.length()))
          .setSync(sync)
          .build();
      try {
        writes.add(writer.start(op, where.get(p.index()), view));
      } catch (RpcException e) { // no location to be had (allocate failed)
        failure = failure == null ? e : failure;
      }
    }
    for (ReplicaWriter.Attempt w : writes) {
      try {
        writer.finish(w);
      } catch (RpcException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static List<Long> indices(List<Piece> pieces) {
    return pieces.stream().map(Piece::index).toList();
  }
}
