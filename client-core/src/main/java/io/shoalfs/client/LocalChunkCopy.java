package io.shoalfs.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * One chunk copy of this host's server, open through the descriptors of its data file and its
 * checksum file (one CRC32C per block, 4 bytes big-endian; the last block may be short), as
 * the server handed them over at {@link #version()}. A read verifies every block it returns
 * against the checksum file as it is at that moment, and refuses rather than return bytes that
 * do not match: a read racing a write (the server writes the data, then the checksums), or a
 * copy damaged on disk, is then read over the network, where the server decides which it was.
 *
 * <p>Descriptors stay open while the mount uses the copy: {@link #acquire}/{@link #release}
 * count readers, and {@link #retire} closes them once the last one is done, so a descriptor
 * number is never read after it was closed (and perhaps reused for another file).
 */
final class LocalChunkCopy {
  /** A read that could not be served from the local copy; the network path must answer. */
  static final class Unusable extends Exception {
    /** The copy must not be used again (replaced, deleted or damaged): reopen it. */
    final boolean drop;

    Unusable(String message, boolean drop) {
      super(message, null, false, false);
      this.drop = drop;
    }
  }

  private static final int CRC_BYTES = 4;

  private final String member;
  private final long version;
  private final int blockSize;
  private final FileDescriptor data;
  private final FileDescriptor checksums;
  private int readers;
  private boolean retired;
  private boolean closed;

  LocalChunkCopy(String member, long version, int blockSize, FileDescriptor data,
      FileDescriptor checksums) {
    if (blockSize <= 0) {
      throw new IllegalArgumentException("block size must be positive: " + blockSize);
    }
    this.member = member;
    this.version = version;
    this.blockSize = blockSize;
    this.data = data;
    this.checksums = checksums;
  }

  String member() {
    return member;
  }

  long version() {
    return version;
  }

  /** Registers a reader; false once retired (the caller opens a fresh copy or goes remote). */
  synchronized boolean acquire() {
    if (retired) {
      return false;
    }
    readers++;
    return true;
  }

  synchronized void release() {
    readers--;
    closeIfUnused();
  }

  /** No new readers; the descriptors close when the last reader releases. */
  synchronized void retire() {
    retired = true;
    closeIfUnused();
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /**
   * The copy's bytes in {@code [offset, offset + length)} (fewer past its end, none beyond
   * it), every block they touch verified. Between {@link #acquire} and {@link #release}.
   */
  ByteString read(long offset, int length) throws Unusable {
    try {
      long size = linkedSize(data);
      linkedSize(checksums);
      long end = Math.min(offset + length, size);
      if (length == 0 || offset >= end) {
        return ByteString.EMPTY;
      }
      long first = offset / blockSize;
      long last = (end - 1) / blockSize;
      long spanStart = first * blockSize;
      int spanLength = Math.toIntExact(Math.min((last + 1) * blockSize, size) - spanStart);
      byte[] span = new byte[spanLength];
      int blocks = Math.toIntExact(last - first + 1);
      byte[] crcs = new byte[blocks * CRC_BYTES];
      // Data first, checksums second (the writer's order is the same): a write that lands in
      // between shows as a mismatch, never as bytes that pass.
      if (!NativeFiles.readFully(data.intValue(), span, spanLength, spanStart)
          || !NativeFiles.readFully(checksums.intValue(), crcs, crcs.length,
              first * CRC_BYTES)) {
        throw new Unusable("copy shrank while being read", false);
      }
      ByteBuffer stored = ByteBuffer.wrap(crcs);
      CRC32C crc = new CRC32C();
      for (int b = 0; b < blocks; b++) {
        int from = b * blockSize;
        crc.reset();
        crc.update(span, from, Math.min(blockSize, spanLength - from));
        int expected = stored.getInt();
        if ((int) crc.getValue() != expected) {
          throw new Unusable(String.format("block %d: CRC32C %08x, stored %08x", first + b,
              (int) crc.getValue(), expected), true);
        }
      }
      return UnsafeByteOperations.unsafeWrap(span, Math.toIntExact(offset - spanStart),
          Math.toIntExact(end - offset));
    } catch (IOException e) {
      throw new Unusable(e.toString(), true);
    }
  }

  /**
   * The size of the file behind {@code fd}, which must still have a name: a copy the server
   * replaced (a fresh one installed) or deleted is not this chunk any more.
   */
  private static long linkedSize(FileDescriptor fd) throws IOException, Unusable {
    NativeFiles.Stat stat = NativeFiles.stat(fd.intValue());
    if (stat.links() == 0) {
      throw new Unusable("copy was replaced or deleted", true);
    }
    return stat.size();
  }

  private void closeIfUnused() {
    if (retired && readers == 0 && !closed) {
      closed = true;
      closeQuietly(data);
      closeQuietly(checksums);
    }
  }

  private static void closeQuietly(FileDescriptor fd) {
    try {
      fd.close();
    } catch (IOException ignored) {
      // closing a descriptor we own cannot fail in a way anybody could act on
    }
  }
}
