package io.shoalfs.server.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * The chunks of files on this node's disk, every block checksummed (CRC32C) and verified on
 * every read. Layout on disk: {@link ChunkLayout}; per-chunk format and crash window:
 * {@link ChecksummedChunk}.
 *
 * <p>Thread-safe. Calls on one chunk are serialized (reads share, mutations exclude) by a
 * striped lock; calls on different chunks run in parallel. Whole-file operations (truncate,
 * delete, sync) take each chunk's lock in turn, so a write racing them to a chunk of the
 * same file lands before or after, per chunk: ordering those is the client's job.
 *
 * <p>Argument errors (negative offsets, a range past the chunk size) throw
 * IllegalArgumentException; a failed checksum throws {@link CorruptChunkException}; a full
 * disk surfaces as the IOException the JDK throws ("No space left on device").
 */
public final class ChunkStore implements Closeable {
  public static final int DEFAULT_CHUNK_SIZE = 64 << 20;
  public static final int DEFAULT_BLOCK_SIZE = 64 << 10;
  static final int DEFAULT_OPEN_CHUNKS = 128;
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

  private final ChunkLayout layout;
  private final int chunkSize;
  private final int blockSize;
  private final StripedLocks locks = new StripedLocks(256);
  private final OpenChunks open;
  private final AtomicLong usedBytes;

  /** A store with 64 MiB chunks and 64 KiB blocks. */
  public ChunkStore(Path dataDir) throws IOException {
    this(dataDir, DEFAULT_CHUNK_SIZE, DEFAULT_BLOCK_SIZE);
  }

  public ChunkStore(Path dataDir, int chunkSize, int blockSize) throws IOException {
    this(dataDir, chunkSize, blockSize, DEFAULT_OPEN_CHUNKS);
  }

  ChunkStore(Path dataDir, int chunkSize, int blockSize, int openChunks) throws IOException {
    if (blockSize <= 0 || chunkSize <= 0 || chunkSize % blockSize != 0) {
      throw new IllegalArgumentException("chunk size " + chunkSize
          + " must be a positive multiple of block size " + blockSize);
    }
    Files.createDirectories(dataDir);
    this.layout = new ChunkLayout(dataDir);
    this.chunkSize = chunkSize;
    this.blockSize = blockSize;
    this.open = new OpenChunks(openChunks);
    // Walk the tree once; from here on every change adjusts the count.
    this.usedBytes = new AtomicLong(layout.measure());
  }

  public Path dataDir() {
    return layout.root();
  }

  public int chunkSize() {
    return chunkSize;
  }

  public int blockSize() {
    return blockSize;
  }

  /**
   * Writes {@code data} (its remaining bytes; its position is not moved) at {@code offset}
   * within the chunk, creating the chunk if needed. With {@code sync}, data, checksums and a
   * newly created file's directory entry are durable before this returns.
   */
  public void write(long inode, int index, long offset, ByteBuffer data, boolean sync)
      throws IOException {
    checkRange(index, offset, data.remaining());
    if (!data.hasRemaining()) {
      return;
    }
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try (OpenChunks.Lease lease = open.acquire(key, () -> openChunk(key, true))) {
      ChecksummedChunk chunk = lease.chunk();
      long before = chunk.footprint();
      try {
        chunk.write(offset, data.duplicate());
        if (sync) {
          chunk.force();
          if (chunk.takeDirectoryEntryPending()) {
            syncDirectories(layout.dataFile(key).getParent());
          }
        }
      } finally {
        usedBytes.addAndGet(footprintOr(chunk, before) - before);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Reads up to {@code length} bytes at {@code offset} within the chunk: fewer past the
   * chunk's end, none for a chunk that does not exist. Every block touched is verified.
   */
  public ByteBuffer read(long inode, int index, long offset, int length) throws IOException {
    checkRange(index, offset, length);
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).readLock();
    lock.lock();
    try (OpenChunks.Lease lease = open.acquire(key, () -> openChunk(key, false))) {
      if (lease == null) {
        return EMPTY;
      }
      return lease.chunk().read(offset, length);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Cuts a file's data to {@code size} bytes: chunks wholly past it are deleted, the chunk
   * holding it is truncated and its last block re-checksummed. Never grows anything: bytes
   * between a chunk's end and the file size are zeros to the reader. Durable on return
   * (the cut chunk is forced, and the directory after deleting chunks): a cut that a crash
   * undid would resurface the old bytes once the file grows again.
   */
  public void truncateFile(long inode, long size) throws IOException {
    if (size < 0) {
      throw new IllegalArgumentException("negative size " + size);
    }
    boolean deleted = false;
    for (int index : layout.indexesOf(inode)) {
      long chunkStart = (long) index * chunkSize;
      ChunkKey key = new ChunkKey(inode, index);
      if (chunkStart >= size) {
        deleteChunk(key);
        deleted = true;
      } else if (size - chunkStart < chunkSize) {
        truncateChunk(key, size - chunkStart);
      }
    }
    if (deleted) {
      syncDirectories(layout.directoryOf(inode));
    }
  }

  /** Deletes every chunk of a file. Deleting a file with no chunks is not an error. */
  public void deleteFile(long inode) throws IOException {
    for (int index : layout.indexesOf(inode)) {
      deleteChunk(new ChunkKey(inode, index));
    }
  }

  /** Makes every chunk of a file, and their directory entries, durable. */
  public void syncFile(long inode) throws IOException {
    boolean any = false;
    for (int index : layout.indexesOf(inode)) {
      ChunkKey key = new ChunkKey(inode, index);
      Lock lock = locks.of(key).writeLock();
      lock.lock();
      try (OpenChunks.Lease lease = open.acquire(key, () -> openChunk(key, false))) {
        if (lease != null) {
          lease.chunk().force();
          lease.chunk().takeDirectoryEntryPending();
          any = true;
        }
      } finally {
        lock.unlock();
      }
    }
    if (any) {
      syncDirectories(layout.directoryOf(inode));
    }
  }

  /** Bytes held by chunk and checksum files (apparent sizes), kept current without a walk. */
  public long usedBytes() {
    return usedBytes.get();
  }

  /** Closes the open files. Calls after this fail. */
  @Override
  public void close() {
    open.close();
  }

  private void truncateChunk(ChunkKey key, long length) throws IOException {
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try (OpenChunks.Lease lease = open.acquire(key, () -> openChunk(key, false))) {
      if (lease == null) {
        return;
      }
      ChecksummedChunk chunk = lease.chunk();
      long before = chunk.footprint();
      try {
        chunk.truncate(length);
        // A truncate that a crash undoes would resurface old bytes when the file grows again.
        chunk.force();
      } finally {
        usedBytes.addAndGet(footprintOr(chunk, before) - before);
      }
    } finally {
      lock.unlock();
    }
  }

  private void deleteChunk(ChunkKey key) throws IOException {
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try {
      open.invalidate(key);
      deleteCounted(layout.dataFile(key));
      deleteCounted(layout.checksumFile(key));
    } finally {
      lock.unlock();
    }
  }

  private void deleteCounted(Path file) throws IOException {
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException gone) {
      return;
    }
    if (Files.deleteIfExists(file)) {
      usedBytes.addAndGet(-size);
    }
  }

  private ChecksummedChunk openChunk(ChunkKey key, boolean create) throws IOException {
    return ChecksummedChunk.open(layout, key, blockSize, create);
  }

  private void checkRange(int index, long offset, int length) {
    if (index < 0) {
      throw new IllegalArgumentException("negative chunk index " + index);
    }
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("negative offset " + offset + " or length " + length);
    }
    if (offset + length > chunkSize) {
      throw new IllegalArgumentException("range [" + offset + ", " + (offset + length)
          + ") goes past the chunk size " + chunkSize);
    }
  }

  private static long footprintOr(ChecksummedChunk chunk, long fallback) {
    try {
      return chunk.footprint();
    } catch (IOException e) {
      return fallback;
    }
  }

  /** fsyncs the inode's fan-out directory and its two parents (new entries need it). */
  private void syncDirectories(Path dir) throws IOException {
    Path root = layout.root();
    for (Path d = dir; d != null && d.startsWith(root); d = d.getParent()) {
      try (FileChannel channel = FileChannel.open(d, StandardOpenOption.READ)) {
        channel.force(true);
      }
      if (d.equals(root)) {
        break;
      }
    }
  }
}
