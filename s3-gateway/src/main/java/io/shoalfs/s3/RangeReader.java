package io.shoalfs.s3;

import com.google.protobuf.ByteString;
import io.shoalfs.client.ClientCore;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Reads a byte range of a file in order, a piece at a time, a few pieces ahead: pieces end at
 * chunk boundaries (each is one replica read) and hold at most {@link #PIECE} bytes, so a
 * reader holds at most {@link #AHEAD} pieces however long the range.
 */
final class RangeReader {
  static final int PIECE = 1 << 20;
  static final int AHEAD = 4;

  private final ClientCore core;
  private final long inode;
  private final long end;
  private long nextOffset;
  private final Deque<ClientCore.PendingRead> inFlight = new ArrayDeque<>();

  /** Reads {@code [offset, offset + length)} of {@code inode}, which must lie inside the file. */
  RangeReader(ClientCore core, long inode, long offset, long length) {
    this.core = core;
    this.inode = inode;
    this.nextOffset = offset;
    this.end = offset + length;
  }

  /** The next piece, or null after the last. */
  ByteString next() throws RpcException {
    while (inFlight.size() < AHEAD && nextOffset < end) {
      long chunkEnd = (nextOffset / core.chunkSize() + 1) * core.chunkSize();
      int length = (int) Math.min(Math.min(PIECE, end - nextOffset), chunkEnd - nextOffset);
      inFlight.add(core.startRead(inode, nextOffset, length));
      nextOffset += length;
    }
    ClientCore.PendingRead first = inFlight.poll();
    return first == null ? null : core.finishRead(first);
  }
}
