package io.shoalfs.server.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * One chunk on disk: its data file and the sidecar holding one CRC32C per block. Entry
 * {@code b} of the sidecar covers the bytes {@code [b * blockSize, min((b + 1) * blockSize,
 * length))} of the data file, so the last block may be short.
 *
 * <p>State in memory: the data's length and the CRC table ({@link BlockChecksums}) are read
 * when the chunk is opened and kept current by every change, which writes the files first and
 * memory after; a change that fails reloads both from the files. A read then costs one pread
 * per {@link BlockBuffers#MAX_BYTES} of the blocks it touches and no other system call; it
 * verifies those blocks against the table. Data damaged on disk is caught by the next read of
 * its block; a sidecar damaged on disk while the chunk is open is noticed when the chunk is
 * next opened (the table in memory is the one that was written, and still right).
 *
 * <p>Not thread-safe for mutation: {@link ChunkStore} holds the chunk's lock around every
 * call (shared for reads, exclusive for the rest).
 *
 * <p>Crash consistency: a write puts the data first and the checksums second. A crash
 * between the two leaves the blocks it touched with their old CRCs over new (or partly new)
 * bytes; those blocks then read as CORRUPT until rewritten. That is the window: a crash can
 * make an unacknowledged write's blocks unreadable, but never makes wrong bytes readable.
 * A write that fails (ENOSPC) is rolled back to the old length, with the same caveat for
 * blocks inside the old length it had already overwritten.
 */
final class ChecksummedChunk implements Closeable {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();
  /** Zeros to fill holes with, a piece at a time. */
  private static final byte[] ZEROS = new byte[8192];

  private final ChunkKey key;
  private final int blockSize;
  private final int zeroBlockCrc;
  private final FileChannel data;
  private final FileChannel checksums;
  private final Path dataPath;
  private final Path checksumPath;
  private final DiskForce disk;
  /** The data file's length. */
  private long size;
  /** The sidecar's length (a torn last entry included). */
  private long checksumBytes;
  private BlockChecksums crcs;
  /** The data file was created by this handle and its directory entry not yet made durable. */
  private boolean directoryEntryPending;

  private ChecksummedChunk(ChunkKey key, int blockSize, FileChannel data, FileChannel checksums,
      boolean created, Path dataPath, Path checksumPath, DiskForce disk) throws IOException {
    this.key = key;
    this.blockSize = blockSize;
    this.zeroBlockCrc = crcOf(ByteBuffer.allocate(blockSize));
    this.data = data;
    this.checksums = checksums;
    this.dataPath = dataPath;
    this.checksumPath = checksumPath;
    this.disk = disk;
    this.directoryEntryPending = created;
    reload();
  }

  /**
   * Opens a chunk's files, creating them (and their directories) when {@code create} is set.
   * Returns null when the chunk does not exist and {@code create} is not set. Existence is
   * checked, not caught: a missing chunk is the normal case for a new one.
   */
  static ChecksummedChunk open(ChunkLayout layout, ChunkKey key, int blockSize, boolean create,
      DiskForce disk) throws IOException {
    Path dataPath = layout.dataFile(key);
    Path crcPath = layout.checksumFile(key);
    FileChannel data;
    boolean created = false;
    if (Files.exists(dataPath)) {
      data = FileChannel.open(dataPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } else if (!create) {
      return null;
    } else {
      Path dir = dataPath.getParent();
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
      }
      try {
        data = FileChannel.open(dataPath, StandardOpenOption.READ, StandardOpenOption.WRITE,
            StandardOpenOption.CREATE_NEW);
        created = true;
      } catch (FileAlreadyExistsException raced) {
        data = FileChannel.open(dataPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
      }
    }
    try {
      // A data file without a sidecar (crash right after creating it) gets an empty one:
      // every block it holds then reads as CORRUPT, which is the truth.
      FileChannel crc = FileChannel.open(crcPath, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.CREATE);
      try {
        return new ChecksummedChunk(key, blockSize, data, crc, created, dataPath, crcPath, disk);
      } catch (IOException e) {
        crc.close();
        throw e;
      }
    } catch (IOException e) {
      data.close();
      throw e;
    }
  }

  long length() {
    return size;
  }

  /** Bytes this chunk occupies: data plus checksums (apparent sizes). */
  long footprint() {
    return size + checksumBytes;
  }

  /**
   * Returns the bytes of {@code [offset, offset + length)} that exist (fewer past the end),
   * after verifying every block the range touches, in a buffer of their own (exactly those
   * bytes, the caller's to keep).
   */
  ByteBuffer read(long offset, int length) throws IOException {
    long end = Math.min(offset + length, size);
    if (length == 0 || offset >= end) {
      return EMPTY;
    }
    byte[] out = new byte[Math.toIntExact(end - offset)];
    long last = (end - 1) / blockSize;
    int perBuffer = BlockBuffers.blocksPerBuffer(blockSize);
    for (long first = offset / blockSize; first <= last; first += perBuffer) {
      long spanStart = first * blockSize;
      long spanEnd = Math.min(Math.min(first + perBuffer, last + 1) * blockSize, size);
      ByteBuffer span = readVerified(first, spanStart, Math.toIntExact(spanEnd - spanStart));
      long from = Math.max(offset, spanStart);
      long to = Math.min(end, spanEnd);
      span.get(Math.toIntExact(from - spanStart), out, Math.toIntExact(from - offset),
          Math.toIntExact(to - from));
    }
    return ByteBuffer.wrap(out);
  }

  /**
   * Reads {@code bytes} from {@code spanStart} (the start of block {@code first}) into this
   * thread's block buffer and verifies every block in it.
   */
  private ByteBuffer readVerified(long first, long spanStart, int bytes) throws IOException {
    ByteBuffer span = BlockBuffers.take(bytes);
    if (!readFully(data, span, spanStart)) {
      throw new IOException("chunk " + key + " shrank while being read");
    }
    for (int from = 0; from < bytes; from += blockSize) {
      long b = first + from / blockSize;
      verify(b, span.slice(from, Math.min(blockSize, bytes - from)), storedCrc(b));
    }
    return span;
  }

  /**
   * Writes {@code src} at {@code offset}. A gap between the current end and {@code offset}
   * becomes a hole that reads as zeros (and gets checksums like any other block).
   */
  void write(long offset, ByteBuffer src) throws IOException {
    int length = src.remaining();
    if (length == 0) {
      return;
    }
    long oldSize = size;
    long end = offset + length;
    long newSize = Math.max(oldSize, end);
    // From the old end's block when the write leaves a hole (its blocks get checksums too) to
    // the write's last block: the blocks after it keep their bytes and their CRCs.
    long first = Math.min(oldSize, offset) / blockSize;
    long last = (end - 1) / blockSize;
    int[] newCrcs = new int[Math.toIntExact(last - first + 1)];
    for (long b = first; b <= last; b++) {
      newCrcs[(int) (b - first)] = blockCrcAfterWrite(b, oldSize, newSize, offset, src);
    }
    long oldChecksumBytes = checksumBytes;
    try {
      writeFully(data, src.duplicate(), offset);
      writeFully(checksums, BlockChecksums.encode(newCrcs), BlockChecksums.offsetOf(first));
    } catch (IOException e) {
      rollBack(oldSize, oldChecksumBytes, e);
      throw e;
    }
    size = newSize;
    checksumBytes = Math.max(checksumBytes, BlockChecksums.offsetOf(last + 1));
    crcs.put(first, newCrcs);
  }

  /**
   * The CRC block {@code b} will have once {@code src} is written at {@code offset}: from the
   * caller's buffer when the block is wholly new, else over the old bytes (verified first:
   * re-checksumming them unverified would bless a rotten block with a fresh, valid CRC)
   * merged with the new ones in this thread's block buffer.
   */
  private int blockCrcAfterWrite(long b, long oldSize, long newSize, long offset,
      ByteBuffer src) throws IOException {
    long end = offset + src.remaining();
    long blockStart = b * blockSize;
    long blockEnd = Math.min(blockStart + blockSize, newSize);
    int blockLength = (int) (blockEnd - blockStart);
    if (blockStart >= offset && blockEnd <= end) {
      return crcOf(src.slice(src.position() + (int) (blockStart - offset), blockLength));
    }
    long newFrom = Math.max(blockStart, offset);
    long newTo = Math.min(blockEnd, end);
    boolean hasOld = blockStart < oldSize;
    if (!hasOld && newFrom >= newTo && blockLength == blockSize) {
      return zeroBlockCrc; // a whole block of hole
    }
    ByteBuffer block = BlockBuffers.take(blockLength);
    int oldLength = hasOld ? (int) (Math.min(blockStart + blockSize, oldSize) - blockStart) : 0;
    if (hasOld) {
      ByteBuffer old = block.slice(0, oldLength);
      if (!readFully(data, old, blockStart)) {
        throw new IOException("chunk " + key + " shrank while being written");
      }
      verify(b, block.slice(0, oldLength), storedCrc(b));
    }
    // A hole between the old end and the new bytes (or the block's end) reads as zeros.
    int holeTo = (int) Math.min(blockLength, Math.max(newFrom - blockStart, oldLength));
    for (int at = oldLength; at < holeTo; at += ZEROS.length) {
      block.put(at, ZEROS, 0, Math.min(ZEROS.length, holeTo - at));
    }
    if (newFrom < newTo) {
      block.put((int) (newFrom - blockStart),
          src.slice(src.position() + (int) (newFrom - offset), (int) (newTo - newFrom)),
          0, (int) (newTo - newFrom));
    }
    return crcOf(block.slice(0, blockLength));
  }

  /**
   * Cuts the chunk to {@code newLength} bytes and re-checksums the new last block. Never
   * grows the chunk: bytes past a chunk's end read as zeros to the client anyway.
   */
  void truncate(long newLength) throws IOException {
    if (newLength >= size) {
      return;
    }
    long blocks = (newLength + blockSize - 1) / blockSize;
    int tail = (int) (newLength % blockSize);
    try {
      if (tail == 0) {
        data.truncate(newLength);
        checksums.truncate(BlockChecksums.offsetOf(blocks));
      } else {
        long b = newLength / blockSize;
        long blockStart = b * blockSize;
        ByteBuffer old = BlockBuffers.take((int) (Math.min(blockStart + blockSize, size)
            - blockStart));
        if (!readFully(data, old, blockStart)) {
          throw new IOException("chunk " + key + " shrank while being truncated");
        }
        verify(b, old.flip(), storedCrc(b));
        int crc = crcOf(old.slice(0, tail));
        data.truncate(newLength);
        writeFully(checksums, BlockChecksums.encode(new int[] {crc}),
            BlockChecksums.offsetOf(b));
        checksums.truncate(BlockChecksums.offsetOf(blocks));
        crcs.put(b, new int[] {crc});
      }
    } catch (CorruptChunkException e) {
      throw e; // nothing changed
    } catch (IOException e) {
      reloadAfter(e);
      throw e;
    }
    size = newLength;
    checksumBytes = Math.min(checksumBytes, BlockChecksums.offsetOf(blocks));
    crcs.truncate(blocks);
  }

  /** Makes data and checksums durable (the directory entry is the caller's business). */
  void force() throws IOException {
    disk.force(data, dataPath);
    disk.force(checksums, checksumPath);
  }

  /** True once after the data file was created by this handle: its directory needs a sync. */
  boolean takeDirectoryEntryPending() {
    boolean pending = directoryEntryPending;
    directoryEntryPending = false;
    return pending;
  }

  @Override
  public void close() throws IOException {
    try {
      data.close();
    } finally {
      checksums.close();
    }
  }

  /** Reads length and CRC table from the files. */
  private void reload() throws IOException {
    size = data.size();
    checksumBytes = checksums.size();
    crcs = BlockChecksums.load(checksums);
  }

  private void rollBack(long oldSize, long oldChecksumBytes, IOException cause) {
    try {
      if (data.size() > oldSize) {
        data.truncate(oldSize);
      }
      if (checksums.size() > oldChecksumBytes) {
        checksums.truncate(oldChecksumBytes);
      }
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
    reloadAfter(cause);
  }

  /** After a change failed halfway: what is in memory may no longer be what the files say. */
  private void reloadAfter(IOException cause) {
    try {
      reload();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  private int storedCrc(long block) throws CorruptChunkException {
    if (!crcs.has(block)) {
      throw corrupt(block, "checksum missing");
    }
    return crcs.get(block);
  }

  private void verify(long block, ByteBuffer bytes, int expected) throws CorruptChunkException {
    int actual = crcOf(bytes);
    if (actual != expected) {
      throw corrupt(block, String.format("CRC32C %08x, stored %08x", actual, expected));
    }
  }

  private CorruptChunkException corrupt(long block, String detail) {
    return new CorruptChunkException(key.inode(), key.index(), block, detail);
  }

  private static int crcOf(ByteBuffer bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes.duplicate());
    return (int) crc.getValue();
  }

  /** Fills {@code dst} from {@code position}; false if the file ended first. */
  private static boolean readFully(FileChannel channel, ByteBuffer dst, long position)
      throws IOException {
    while (dst.hasRemaining()) {
      int n = channel.read(dst, position);
      if (n < 0) {
        return false;
      }
      position += n;
    }
    return true;
  }

  private static void writeFully(FileChannel channel, ByteBuffer src, long position)
      throws IOException {
    while (src.hasRemaining()) {
      position += channel.write(src, position);
    }
  }
}
