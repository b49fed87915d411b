package io.shoalfs.client;

import com.google.protobuf.ByteString;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * Reads ahead of handles that read sequentially. The kernel asks FUSE for at most 128 KiB per
 * read, one or two at a time, so a sequential reader without this waits a full round trip per
 * 128 KiB. Once a handle's reads have continued one another twice, the next
 * {@link ReadAheadSettings#windowBlocks()} blocks are requested at once, in parallel, and later
 * reads are answered from them; random reads never trigger it.
 *
 * <p>Consistency is what a read without read-ahead sees: before a read, this mount's buffered
 * writes to the inode are drained (as always), and a block is served only if no write or
 * truncate of its inode through this mount {@link #written(long) happened} since the block was
 * requested: the epoch is read before the drain, so a write that was not yet drained when the
 * block was requested has changed it. Other mounts' changes are seen on the next open
 * (close-to-open), each handle having its own blocks. A block that is short (end of file, a
 * hole), failed or missing leaves the read to {@link ChunkedIo#read}, which knows what to do.
 *
 * <p>Memory is bounded by {@link ReadAheadSettings#totalBytes()} over all handles.
 */
final class ReadAhead {
  /** Reads that continued one another before blocks are requested ahead. */
  private static final int SEQUENTIAL_READS = 2;
  private static final int EPOCH_SLOTS = 1024;

  private final ChunkedIo io;
  private final WriteBehind writeBehind;
  private final ReadAheadSettings settings;
  private final long blockBytes;
  /**
   * A read continues the previous one when it starts this close to where that one ended (half
   * a block): the kernel's reads of one stream can arrive slightly out of order.
   */
  private final long continuesWithin;
  private final Semaphore budget;
  private final Map<Long, Stream> streams = new ConcurrentHashMap<>();
  /** Bumped by every write or truncate through this mount, by inode (hashed: a slot may be shared). */
  private final AtomicLongArray epochs = new AtomicLongArray(EPOCH_SLOTS);

  ReadAhead(ChunkedIo io, WriteBehind writeBehind, ReadAheadSettings settings) {
    this.io = io;
    this.writeBehind = writeBehind;
    this.settings = settings;
    this.blockBytes = Math.min(settings.blockBytes(), io.chunkSize());
    this.continuesWithin = blockBytes / 2;
    this.budget = new Semaphore(settings.enabled() ? settings.blocks() : 0);
  }

  /**
   * Reads like {@link ChunkedIo#read} through {@code file}, after draining this mount's
   * buffered writes to the inode; from blocks read ahead when the handle reads sequentially.
   */
  int read(OpenFile file, long offset, int size, ReadTarget dst, ChunkedIo.SizeSource fileSize)
      throws RpcException {
    long inode = file.inode();
    long epoch = epoch(inode);
    writeBehind.drainInode(inode); // a read sees every write before it
    if (settings.enabled() && size > 0) {
      Stream s = streams.computeIfAbsent(file.fh(), fh -> new Stream(inode));
      List<Block> blocks;
      synchronized (s) {
        blocks = s.advance(offset, size, epoch, fileSize);
      }
      if (blocks != null && serve(blocks, inode, offset, size, dst)) {
        return size;
      }
    }
    return io.read(inode, offset, size, dst, fileSize);
  }

  /** Data of {@code inode} changed through this mount: blocks read before are not served. */
  void written(long inode) {
    epochs.incrementAndGet(slot(inode));
  }

  /** The handle is closed: its blocks go. */
  void release(long fh) {
    Stream s = streams.remove(fh);
    if (s != null) {
      synchronized (s) {
        s.dropAll();
      }
    }
  }

  /** Blocks held now, over all handles (for tests). */
  int heldBlocks() {
    return settings.blocks() - budget.availablePermits();
  }

  private long epoch(long inode) {
    return epochs.get(slot(inode));
  }

  private static int slot(long inode) {
    return Long.hashCode(inode * 0x9E3779B97F4A7C15L) & (EPOCH_SLOTS - 1);
  }

  /** Copies [offset, offset + size) out of {@code blocks}; false if any cannot give its part. */
  private boolean serve(List<Block> blocks, long inode, long offset, int size, ReadTarget dst) {
    long end = offset + size;
    for (Block b : blocks) {
      ByteString data = b.data();
      long from = Math.max(offset, b.start);
      long to = Math.min(end, b.start + b.length);
      if (data == null || b.epoch != epoch(inode) || data.size() < to - b.start) {
        return false;
      }
      TargetOutput.copy(data, (int) (from - b.start), (int) (to - from), dst, from - offset);
    }
    return true;
  }

  /** One handle's reading position and its blocks, by start offset. Guarded by itself. */
  private final class Stream {
    private final long inode;
    private final TreeMap<Long, Block> blocks = new TreeMap<>();
    private long end = -1;
    private int sequential;
    /** The file size as asked once per epoch; blocks are not requested past it. */
    private long sizeHint = -1;
    private long sizeEpoch = -1;

    Stream(long inode) {
      this.inode = inode;
    }

    /**
     * Notes a read, requests the blocks ahead when the handle reads sequentially, and returns
     * the blocks that cover the read, or null when they do not all exist.
     */
    List<Block> advance(long offset, int size, long epoch, ChunkedIo.SizeSource fileSize)
        throws RpcException {
      boolean continues = end >= 0 && Math.abs(offset - end) <= continuesWithin;
      end = offset + size;
      if (!continues) {
        sequential = 0;
        dropAll();
        return null;
      }
      if (++sequential < SEQUENTIAL_READS) {
        return null;
      }
      drop(b -> b.epoch != epoch || b.start + b.length <= offset);
      long first = offset - offset % blockBytes;
      long last = first + settings.windowBlocks() * blockBytes;
      if (sizeEpoch != epoch) {
        sizeHint = fileSize.size();
        sizeEpoch = epoch;
      }
      for (long at = first; at < last && at < sizeHint; at += blockBytes) {
        if (!blocks.containsKey(at)) {
          if (!budget.tryAcquire()) {
            break; // no room: the reads ask for what they need
          }
          int length = (int) Math.min(blockBytes, io.chunkSize() - at % io.chunkSize());
          try {
            blocks.put(at, new Block(at, length, epoch, io.startPiece(inode, at, length)));
          } catch (RpcException | RuntimeException e) {
            budget.release();
            throw e;
          }
        }
      }
      List<Block> covering = new ArrayList<>(2);
      for (long at = first; at < offset + size; at += blockBytes) {
        Block b = blocks.get(at);
        if (b == null) {
          return null;
        }
        covering.add(b);
      }
      return covering;
    }

    void dropAll() {
      drop(b -> true);
    }

    private void drop(Predicate<Block> which) {
      for (Iterator<Block> it = blocks.values().iterator(); it.hasNext(); ) {
        if (which.test(it.next())) {
          it.remove();
          budget.release();
        }
      }
    }
  }

  /** One block read ahead: requested at once, its answer awaited by the first read needing it. */
  private final class Block {
    final long start;
    final int length;
    final long epoch;
    private ReplicaReader.Attempt pending;
    private ByteString data;
    private boolean failed;

    Block(long start, int length, long epoch, ReplicaReader.Attempt pending) {
      this.start = start;
      this.length = length;
      this.epoch = epoch;
      this.pending = pending;
    }

    /** The block's bytes (short at the end of the file, empty for a hole), null if it failed. */
    synchronized ByteString data() {
      if (data == null && !failed) {
        try {
          data = io.finishPiece(pending);
        } catch (RpcException e) {
          failed = true; // the read goes the ordinary way, with its own failover and errors
        }
        pending = null;
      }
      return data;
    }
  }
}
