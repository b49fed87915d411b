package io.shoalfs.server.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One chunk on disk: its data file and the sidecar holding one CRC32C per block. Entry
 * {@code b} of the sidecar covers the bytes {@code [b * blockSize, min((b + 1) * blockSize,
 * length))} of the data file, so the last block may be short.
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
  private static final int CRC_BYTES = 4;

  private final ChunkKey key;
  private final int blockSize;
  private final int zeroBlockCrc;
  private final FileChannel data;
  private final FileChannel checksums;
  private final Path dataPath;
  private final Path checksumPath;
  private final DiskForce disk;
  /** The data file was created by this handle and its directory entry not yet made durable. */
  private boolean directoryEntryPending;

  private ChecksummedChunk(ChunkKey key, int blockSize, FileChannel data, FileChannel checksums,
      boolean created, Path dataPath, Path checksumPath, DiskForce disk) {
    this.key = key;
    this.blockSize = blockSize;
    this.zeroBlockCrc = crcOf(ByteBuffer.allocate(blockSize));
    this.data = data;
    this.checksums = checksums;
    this.dataPath = dataPath;
    this.checksumPath = checksumPath;
    this.disk = disk;
    this.directoryEntryPending = created;
  }

  /**
   * Opens a chunk's files, creating them (and their directories) when {@code create} is set.
   * Returns null when the chunk does not exist and {@code create} is not set.
   */
  static ChecksummedChunk open(ChunkLayout layout, ChunkKey key, int blockSize, boolean create,
      DiskForce disk) throws IOException {
    Path dataPath = layout.dataFile(key);
    Path crcPath = layout.checksumFile(key);
    FileChannel data;
    boolean created = false;
    try {
      data = FileChannel.open(dataPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (NoSuchFileException missing) {
      if (!create) {
        return null;
      }
      Files.createDirectories(dataPath.getParent());
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
      return new ChecksummedChunk(key, blockSize, data, crc, created, dataPath, crcPath, disk);
    } catch (IOException e) {
      data.close();
      throw e;
    }
  }

  long length() throws IOException {
    return data.size();
  }

  /** Bytes this chunk occupies: data plus checksums (apparent sizes). */
  long footprint() throws IOException {
    return data.size() + checksums.size();
  }

  /**
   * Returns the bytes of {@code [offset, offset + length)} that exist (fewer past the end),
   * after verifying every block the range touches.
   */
  ByteBuffer read(long offset, int length) throws IOException {
    long size = data.size();
    long end = Math.min(offset + length, size);
    if (length == 0 || offset >= end) {
      return ByteBuffer.allocate(0);
    }
    long first = offset / blockSize;
    long last = (end - 1) / blockSize;
    long spanStart = first * blockSize;
    long spanEnd = Math.min((last + 1) * blockSize, size);
    ByteBuffer span = ByteBuffer.allocate(Math.toIntExact(spanEnd - spanStart));
    if (!readFully(data, span, spanStart)) {
      throw new IOException("chunk " + key + " shrank while being read");
    }
    ByteBuffer crcs = ByteBuffer.allocate(Math.toIntExact((last - first + 1) * CRC_BYTES));
    readFully(checksums, crcs, first * CRC_BYTES); // a short sidecar fails below
    crcs.flip();
    for (long b = first; b <= last; b++) {
      int from = Math.toIntExact((b - first) * blockSize);
      int to = Math.toIntExact(Math.min((b - first + 1) * blockSize, span.limit()));
      if (crcs.remaining() < CRC_BYTES) {
        throw corrupt(b, "checksum missing");
      }
      verify(b, span.slice(from, to - from), crcs.getInt());
    }
    return span.slice(Math.toIntExact(offset - spanStart), Math.toIntExact(end - offset));
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
    long oldSize = data.size();
    long end = offset + length;
    long newSize = Math.max(oldSize, end);
    long first = Math.min(oldSize, offset) / blockSize;
    long last = (newSize - 1) / blockSize;
    ByteBuffer crcs = ByteBuffer.allocate(Math.toIntExact((last - first + 1) * CRC_BYTES));
    ByteBuffer scratch = null;
    for (long b = first; b <= last; b++) {
      long blockStart = b * blockSize;
      long blockEnd = Math.min(blockStart + blockSize, newSize);
      int blockLength = (int) (blockEnd - blockStart);
      if (blockStart >= offset && blockEnd <= end) {
        // Wholly new bytes: checksum straight from the caller's buffer.
        crcs.putInt(crcOf(src.slice(src.position() + (int) (blockStart - offset), blockLength)));
        continue;
      }
      long newFrom = Math.max(blockStart, offset);
      long newTo = Math.min(blockEnd, end);
      boolean hasOld = blockStart < oldSize;
      if (!hasOld && newFrom >= newTo && blockLength == blockSize) {
        crcs.putInt(zeroBlockCrc); // a whole block of hole
        continue;
      }
      if (scratch == null) {
        scratch = ByteBuffer.allocate(blockSize);
      }
      scratch.clear();
      Arrays.fill(scratch.array(), (byte) 0);
      if (hasOld) {
        // Read-modify-checksum. Verify the old bytes first: re-checksumming them unverified
        // would bless a rotten block with a fresh, valid CRC.
        long oldEnd = Math.min(blockStart + blockSize, oldSize);
        ByteBuffer old = scratch.slice(0, (int) (oldEnd - blockStart));
        if (!readFully(data, old, blockStart)) {
          throw new IOException("chunk " + key + " shrank while being written");
        }
        verify(b, scratch.slice(0, (int) (oldEnd - blockStart)), storedCrc(b));
      }
      if (newFrom < newTo) {
        scratch.put((int) (newFrom - blockStart),
            src.slice(src.position() + (int) (newFrom - offset), (int) (newTo - newFrom)),
            0, (int) (newTo - newFrom));
      }
      crcs.putInt(crcOf(scratch.slice(0, blockLength)));
    }
    crcs.flip();
    long oldCrcSize = checksums.size();
    try {
      writeFully(data, src.duplicate(), offset);
      writeFully(checksums, crcs, first * CRC_BYTES);
    } catch (IOException e) {
      rollBack(oldSize, oldCrcSize, e);
      throw e;
    }
  }

  /**
   * Cuts the chunk to {@code newLength} bytes and re-checksums the new last block. Never
   * grows the chunk: bytes past a chunk's end read as zeros to the client anyway.
   */
  void truncate(long newLength) throws IOException {
    long size = data.size();
    if (newLength >= size) {
      return;
    }
    long blocks = (newLength + blockSize - 1) / blockSize;
    int tail = (int) (newLength % blockSize);
    if (tail == 0) {
      data.truncate(newLength);
      checksums.truncate(blocks * CRC_BYTES);
      return;
    }
    long b = newLength / blockSize;
    long blockStart = b * blockSize;
    ByteBuffer old = ByteBuffer.allocate((int) (Math.min(blockStart + blockSize, size)
        - blockStart));
    if (!readFully(data, old, blockStart)) {
      throw new IOException("chunk " + key + " shrank while being truncated");
    }
    old.flip();
    verify(b, old.duplicate(), storedCrc(b));
    ByteBuffer crc = ByteBuffer.allocate(CRC_BYTES).putInt(crcOf(old.slice(0, tail)));
    crc.flip();
    data.truncate(newLength);
    writeFully(checksums, crc, b * CRC_BYTES);
    checksums.truncate(blocks * CRC_BYTES);
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

  private void rollBack(long oldSize, long oldCrcSize, IOException cause) {
    try {
      if (data.size() > oldSize) {
        data.truncate(oldSize);
      }
      if (checksums.size() > oldCrcSize) {
        checksums.truncate(oldCrcSize);
      }
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  private int storedCrc(long block) throws IOException {
    ByteBuffer crc = ByteBuffer.allocate(CRC_BYTES);
    if (!readFully(checksums, crc, block * CRC_BYTES)) {
      throw corrupt(block, "checksum missing");
    }
    return crc.getInt(0);
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
