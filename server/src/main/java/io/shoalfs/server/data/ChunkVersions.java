package io.shoalfs.server.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The version of each chunk copy (0 = unversioned): on disk in the copy's sidecar (8 bytes,
 * big-endian, absent = 0; {@link ChunkLayout}), and in memory for the copies used lately, so
 * that a versioned read or write checks it without reading the file.
 *
 * <p>The caller holds the chunk's lock ({@link ChunkStore}'s striped lock): shared for
 * {@link #get}, exclusive for the changes. Every change to a sidecar goes through here, so the
 * value in memory is the file's, and a restart reads the same. A change that fails halfway
 * drops the value from memory: the next {@link #get} reads whatever the file holds.
 */
final class ChunkVersions {
  private final ChunkLayout layout;
  private final DiskForce disk;
  private final int capacity;
  /** Least recently used first; guarded by itself (different chunks' locks do not exclude). */
  private final Map<ChunkKey, Long> known = new LinkedHashMap<>(64, 0.75f, true);

  ChunkVersions(ChunkLayout layout, DiskForce disk, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.layout = layout;
    this.disk = disk;
    this.capacity = capacity;
  }

  /** The copy's version; 0 when unversioned or absent. */
  long get(ChunkKey key) throws IOException {
    Long version;
    synchronized (known) {
      version = known.get(key);
    }
    if (version != null) {
      return version;
    }
    long loaded = load(key);
    remember(key, loaded);
    return loaded;
  }

  /**
   * Replaces the sidecar whole (write a temporary, rename), so that a reader never sees a torn
   * one; with {@code durable} the temporary is forced first, so that a crash leaves the old
   * version or the new one. Version 0 deletes the sidecar.
   */
  void set(ChunkKey key, long version, boolean durable) throws IOException {
    Path file = layout.versionFile(key);
    forget(key);
    if (version == 0) {
      Files.deleteIfExists(file);
      remember(key, 0);
      return;
    }
    Path dir = file.getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
    }
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE,
        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer bytes = ByteBuffer.allocate(Long.BYTES).putLong(version).flip();
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
      if (durable) {
        disk.force(channel, temp);
      }
    }
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    remember(key, version);
  }

  /** Forces a sidecar written without {@code durable}, if the copy has one. */
  void force(ChunkKey key) throws IOException {
    if (get(key) == 0) {
      return; // unversioned: no sidecar
    }
    Path file = layout.versionFile(key);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      disk.force(channel, file);
    }
  }

  /** Deletes the sidecar with the rest of the copy. */
  void delete(ChunkKey key) throws IOException {
    set(key, 0, false);
  }

  private long load(ChunkKey key) throws IOException {
    Path file = layout.versionFile(key);
    if (!Files.exists(file)) {
      return 0; // the common case for a new chunk: checked, not caught
    }
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length != Long.BYTES) {
      throw new IOException("version file of chunk " + key + " holds " + bytes.length
          + " bytes, not " + Long.BYTES);
    }
    return ByteBuffer.wrap(bytes).getLong();
  }

  private void remember(ChunkKey key, long version) {
    synchronized (known) {
      known.put(key, version);
      if (known.size() > capacity) {
        known.remove(known.keySet().iterator().next());
      }
    }
  }

  private void forget(ChunkKey key) {
    synchronized (known) {
      known.remove(key);
    }
  }
}
