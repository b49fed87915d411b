package io.shoalfs.server.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * A chunk's CRC table in memory: entry {@code b} is the CRC32C of block {@code b}, as its
 * sidecar holds it (4 bytes big-endian per block). {@link ChecksummedChunk} loads it when the
 * chunk is opened and changes it only after the sidecar took the same change, so the table is
 * what the file says and a reopen reads the same.
 *
 * <p>Not thread-safe: guarded like the chunk it belongs to.
 */
final class BlockChecksums {
  private static final int CRC_BYTES = 4;

  private int[] crcs = new int[16];
  /** Entries that exist: whole 4-byte entries of the sidecar. */
  private int count;

  /** Reads a whole sidecar; a torn last entry (a crash mid-write) counts as missing. */
  static BlockChecksums load(FileChannel sidecar) throws IOException {
    BlockChecksums table = new BlockChecksums();
    int entries = Math.toIntExact(sidecar.size() / CRC_BYTES);
    ByteBuffer bytes = ByteBuffer.allocate(entries * CRC_BYTES);
    while (bytes.hasRemaining()) {
      if (sidecar.read(bytes, bytes.position()) < 0) {
        break; // shrank meanwhile: fewer entries
      }
    }
    bytes.flip();
    table.ensureCapacity(bytes.remaining() / CRC_BYTES);
    while (bytes.remaining() >= CRC_BYTES) {
      table.crcs[table.count++] = bytes.getInt();
    }
    return table;
  }

  /** Entries that exist. */
  int count() {
    return count;
  }

  boolean has(long block) {
    return block < count;
  }

  /** Block {@code block}'s CRC; check {@link #has} first. */
  int get(long block) {
    return crcs[Math.toIntExact(block)];
  }

  /**
   * Sets the entries from {@code first} on; entries between the old end and {@code first}
   * become 0, as the bytes of a hole in the sidecar read.
   */
  void put(long first, int[] values) {
    int from = Math.toIntExact(first);
    ensureCapacity(from + values.length);
    System.arraycopy(values, 0, crcs, from, values.length);
    count = Math.max(count, from + values.length);
  }

  /** Keeps the first {@code blocks} entries (no more than exist). */
  void truncate(long blocks) {
    int keep = (int) Math.min(count, blocks);
    Arrays.fill(crcs, keep, count, 0); // a later put past the end must find zeros there
    count = keep;
  }

  /** {@code values} as the sidecar stores them. */
  static ByteBuffer encode(int[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * CRC_BYTES);
    for (int value : values) {
      bytes.putInt(value);
    }
    return bytes.flip();
  }

  /** Where entry {@code block} starts in the sidecar. */
  static long offsetOf(long block) {
    return block * CRC_BYTES;
  }

  private void ensureCapacity(int entries) {
    if (entries > crcs.length) {
      crcs = Arrays.copyOf(crcs, Math.max(entries, 2 * crcs.length));
    }
  }
}
