package io.shoalfs.server.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>Chunk versions (replication): each copy may carry a version, kept in a sidecar next to
 * it (and in memory: {@link ChunkVersions}) and deleted with it. Version 0 means unversioned (the single-node path): no sidecar, no
 * checks. A versioned write or read whose version is older than the copy's fails with
 * {@link StaleVersionException}; a versioned write with a newer version moves the copy to it.
 * The check and the change happen under the chunk's lock, with the data.
 */
public final class ChunkStore implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkStore.class);
  public static final int DEFAULT_CHUNK_SIZE = 64 << 20;
  public static final int DEFAULT_BLOCK_SIZE = 64 << 10;
  static final int DEFAULT_OPEN_CHUNKS = 128;
  /** Chunk versions kept in memory: about 100 bytes each. */
  static final int KNOWN_VERSIONS = 16384;
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

  private final ChunkLayout layout;
  private final int chunkSize;
  private final int blockSize;
  private final StripedLocks locks = new StripedLocks(256);
  private final OpenChunks open;
  private final ChunkVersions versions;
  private final AtomicLong usedBytes;
  private final DiskForce disk;

  /** The lock every operation on the chunk takes; tests hold it to stall this store. */
  ReadWriteLock lockOf(long inode, int index) {
    return locks.of(new ChunkKey(inode, index));
  }

  /** A store with 64 MiB chunks and 64 KiB blocks. */
  public ChunkStore(Path dataDir) throws IOException {
    this(dataDir, DEFAULT_CHUNK_SIZE, DEFAULT_BLOCK_SIZE);
  }

  public ChunkStore(Path dataDir, int chunkSize, int blockSize) throws IOException {
    this(dataDir, chunkSize, blockSize, DEFAULT_OPEN_CHUNKS);
  }

  ChunkStore(Path dataDir, int chunkSize, int blockSize, int openChunks) throws IOException {
    this(dataDir, chunkSize, blockSize, openChunks, DiskForce.FSYNC);
  }

  ChunkStore(Path dataDir, int chunkSize, int blockSize, int openChunks, DiskForce disk)
      throws IOException {
    if (blockSize <= 0 || chunkSize <= 0 || chunkSize % blockSize != 0) {
      throw new IllegalArgumentException("chunk size " + chunkSize
          + " must be a positive multiple of block size " + blockSize);
    }
    Files.createDirectories(dataDir);
    this.layout = new ChunkLayout(dataDir);
    this.chunkSize = chunkSize;
    this.blockSize = blockSize;
    this.open = new OpenChunks(openChunks);
    this.disk = disk;
    this.versions = new ChunkVersions(layout, disk, KNOWN_VERSIONS);
    // Copies half-pulled from a peer when the process died: never installed, never needed.
    deleteTree(layout.stagingRoot());
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
    write(inode, index, offset, data, sync, 0);
  }

  /**
   * A write at chunk {@code version} (0 = unversioned, as above): fails with
   * {@link StaleVersionException} if the copy is newer; moves an older copy to
   * {@code version} (durably) before writing.
   */
  public void write(long inode, int index, long offset, ByteBuffer data, boolean sync,
      long version) throws IOException {
    checkRange(index, offset, data.remaining());
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try {
      boolean newVersionFile = false;
      if (version != 0) {
        long local = versions.get(key);
        if (Long.compareUnsigned(local, version) > 0) {
          throw new StaleVersionException(inode, index, version, local);
        }
        if (local != version) {
          newVersionFile = local == 0;
          // Forced only with the data: a version lost in a crash only makes this copy look
          // older, and the data it stamps was not forced either (fsync forces both).
          versions.set(key, version, sync);
        }
      }
      if (data.hasRemaining()) {
        writeLocked(key, offset, data, sync);
      }
      if (newVersionFile && sync) {
        syncDirectories(layout.versionFile(key).getParent());
      }
    } finally {
      lock.unlock();
    }
  }

  private void writeLocked(ChunkKey key, long offset, ByteBuffer data, boolean sync)
      throws IOException {
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
        usedBytes.addAndGet(chunk.footprint() - before);
      }
    }
  }

  /**
   * Reads up to {@code length} bytes at {@code offset} within the chunk: fewer past the
   * chunk's end, none for a chunk that does not exist. Every block touched is verified.
   */
  public ByteBuffer read(long inode, int index, long offset, int length) throws IOException {
    return read(inode, index, offset, length, 0);
  }

  /**
   * A read that first checks the copy is not newer than {@code version} (0 = no check):
   * {@link StaleVersionException} if it is. An older copy is served: after a version bump
   * with no write since, every current replica still holds the older version.
   */
  public ByteBuffer read(long inode, int index, long offset, int length, long version)
      throws IOException {
    checkRange(index, offset, length);
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).readLock();
    lock.lock();
    try {
      if (version != 0) {
        long local = versions.get(key);
        if (Long.compareUnsigned(local, version) > 0) {
          throw new StaleVersionException(inode, index, version, local);
        }
      }
      try (OpenChunks.Lease lease = open.acquire(key, () -> openChunk(key, false))) {
        if (lease == null) {
          return EMPTY;
        }
        return lease.chunk().read(offset, length);
      }
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

  /** Makes every chunk of a file, their versions and their directory entries, durable. */
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
          versions.force(key);
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

  /** Opens the files of one chunk copy; called under the chunk's lock. */
  @FunctionalInterface
  public interface CopyOpener<T> {
    T open(Path data, Path checksums) throws IOException;
  }

  /**
   * Opens this node's copy of a chunk through {@code opener} if its version is exactly
   * {@code version} and it has a data file; empty otherwise (older: it missed writes; newer:
   * the asker's location is old; absent: nothing to hand out). Under the chunk's shared lock,
   * so no write, install or delete is halfway through while the version is checked and the
   * files are opened. For short-circuit local reads: the files opened are the ones a reader
   * then verifies block by block against the checksum file, as {@link #read} does.
   */
  public <T> Optional<T> openIfCurrent(long inode, int index, long version,
      CopyOpener<T> opener) throws IOException {
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).readLock();
    lock.lock();
    try {
      Path data = layout.dataFile(key);
      if (versions.get(key) != version || !Files.exists(data)) {
        return Optional.empty();
      }
      return Optional.of(opener.open(data, layout.checksumFile(key)));
    } finally {
      lock.unlock();
    }
  }

  /** The version of this node's copy of a chunk; 0 when unversioned or absent. */
  public long version(long inode, int index) throws IOException {
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).readLock();
    lock.lock();
    try {
      return versions.get(key);
    } finally {
      lock.unlock();
    }
  }

  /** Sets the version of a chunk copy (durably); 0 makes it unversioned. */
  public void setVersion(long inode, int index, long version) throws IOException {
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try {
      versions.set(key, version, true);
      syncDirectories(layout.versionFile(key).getParent());
    } finally {
      lock.unlock();
    }
  }

  /** Version, length and age of this node's copy of a chunk; null when it has none. */
  public StoredChunk info(long inode, int index) throws IOException {
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).readLock();
    lock.lock();
    try {
      return describe(key);
    } finally {
      lock.unlock();
    }
  }

  /**
   * The places chunk copies are kept, for walks that go one at a time ({@link
   * #listChunksIn}): a store with millions of copies is not listed in one go.
   */
  public List<Path> chunkDirectories() throws IOException {
    return layout.chunkDirectories();
  }

  /** The chunk copies in one of {@link #chunkDirectories()}, in (inode, index) order. */
  public List<StoredChunk> listChunksIn(Path directory) throws IOException {
    return describeAll(layout.chunksIn(directory));
  }

  private List<StoredChunk> describeAll(Collection<ChunkKey> keys) throws IOException {
    List<StoredChunk> chunks = new ArrayList<>();
    for (ChunkKey key : keys) {
      StoredChunk chunk = info(key.inode(), key.index());
      if (chunk != null) {
        chunks.add(chunk);
      }
    }
    return chunks;
  }

  /** Deletes one chunk copy (data, checksums, version). Returns false if there was none. */
  public boolean deleteChunk(long inode, int index) throws IOException {
    ChunkKey key = new ChunkKey(inode, index);
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try {
      if (describe(key) == null) {
        return false;
      }
      deleteChunk(key);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes a chunk copy only if it is still exactly as {@code seen} (same version, length
   * and modification time): a copy rewritten or re-replicated since it was judged garbage
   * is kept. Returns whether it was deleted.
   */
  public boolean deleteChunkIfUnchanged(StoredChunk seen) throws IOException {
    ChunkKey key = new ChunkKey(seen.inode(), seen.index());
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try {
      if (!seen.equals(describe(key))) {
        return false;
      }
      deleteChunk(key);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** What {@link #link} found. */
  public enum Linked { MADE, ALREADY, NO_COPY, OTHER_VERSION, TARGET_EXISTS }

  /**
   * Gives this node's copy of chunk {@code (inode, index)} at {@code version} a second name,
   * chunk {@code (toInode, toIndex)}: hard links of its data and checksum files, and a version
   * sidecar of its own at the same version. No byte is copied, and the two names share the
   * bytes until one is deleted: a write to either shows in both, so the source must not be
   * written between this and the chunk map's move_chunks (the S3 gateway's parts never are),
   * and its name is deleted once the move is applied. Both chunks are locked (source and
   * target) for the duration, so no write, truncate or delete of either interleaves.
   */
  public Linked link(long inode, int index, long toInode, int toIndex, long version)
      throws IOException {
    ChunkKey source = new ChunkKey(inode, index);
    ChunkKey target = new ChunkKey(toInode, toIndex);
    if (source.equals(target)) {
      throw new IllegalArgumentException("chunk " + source + " linked to itself");
    }
    List<ReadWriteLock> held = locks.ofBoth(source, target);
    held.forEach(l -> l.writeLock().lock());
    try {
      Path data = layout.dataFile(source);
      if (describe(source) == null || !Files.exists(data)) {
        return Linked.NO_COPY;
      }
      if (versions.get(source) != version) {
        return Linked.OTHER_VERSION;
      }
      Path targetData = layout.dataFile(target);
      if (describe(target) != null) {
        return Files.exists(targetData) && Files.isSameFile(data, targetData)
            && versions.get(target) == version ? Linked.ALREADY : Linked.TARGET_EXISTS;
      }
      Files.createDirectories(targetData.getParent());
      Files.createLink(targetData, data);
      Path checksums = layout.checksumFile(source);
      if (Files.exists(checksums)) {
        Files.createLink(layout.checksumFile(target), checksums);
      }
      versions.set(target, version, true);
      usedBytes.addAndGet(sizeOrZero(targetData) + sizeOrZero(layout.checksumFile(target)));
      syncDirectories(targetData.getParent());
      return Linked.MADE;
    } finally {
      held.forEach(l -> l.writeLock().unlock());
    }
  }

  /**
   * Starts a new copy of a chunk in the staging area, to be filled and then
   * {@link StagedChunk#install installed} over the live copy (or closed to throw it away).
   */
  public StagedChunk stage(long inode, int index) throws IOException {
    if (index < 0) {
      throw new IllegalArgumentException("negative chunk index " + index);
    }
    ChunkKey key = new ChunkKey(inode, index);
    Path dir = layout.stagingRoot().resolve(UUID.randomUUID().toString());
    ChecksummedChunk chunk = ChecksummedChunk.open(new ChunkLayout(dir), key, blockSize, true, disk);
    return new StagedChunk(this, key, dir, chunk);
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

  /**
   * Puts a staged copy's files in place of the live copy's, then sets the version. A crash
   * between the two renames leaves data and checksums that disagree: the copy reads as
   * CORRUPT, never as wrong bytes; and with its version unchanged the healer never counted
   * it as a replica.
   */
  void install(ChunkKey key, Path stagedData, Path stagedChecksums, long version)
      throws IOException {
    Lock lock = locks.of(key).writeLock();
    lock.lock();
    try {
      long local = versions.get(key);
      if (Long.compareUnsigned(local, version) > 0) {
        throw new StaleVersionException(key.inode(), key.index(), version, local);
      }
      open.invalidate(key);
      Path data = layout.dataFile(key);
      Path checksums = layout.checksumFile(key);
      long before = sizeOrZero(data) + sizeOrZero(checksums);
      long after = Files.size(stagedData) + Files.size(stagedChecksums);
      if (!Files.isDirectory(data.getParent())) {
        Files.createDirectories(data.getParent());
      }
      try {
        Files.move(stagedData, data, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
        Files.move(stagedChecksums, checksums, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } finally {
        usedBytes.addAndGet(sizeOrZero(data) + sizeOrZero(checksums) - before);
      }
      versions.set(key, version, true);
      syncDirectories(data.getParent());
      LOG.debug("installed a copy of chunk {} at version {} ({} bytes)", key, version, after);
    } finally {
      lock.unlock();
    }
  }

  private StoredChunk describe(ChunkKey key) throws IOException {
    long modified = -1;
    long length = 0;
    for (Path file : new Path[] {layout.dataFile(key), layout.checksumFile(key),
        layout.versionFile(key)}) {
      try {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        modified = Math.max(modified, attrs.lastModifiedTime().toMillis());
        if (file.equals(layout.dataFile(key))) {
          length = attrs.size();
        }
      } catch (NoSuchFileException absent) {
        // not every copy has every file
      }
    }
    if (modified < 0) {
      return null;
    }
    return new StoredChunk(key.inode(), key.index(), versions.get(key), length, modified);
  }

  private static long sizeOrZero(Path file) throws IOException {
    try {
      return Files.size(file);
    } catch (NoSuchFileException absent) {
      return 0;
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
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
        usedBytes.addAndGet(chunk.footprint() - before);
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
      // Not counted in usedBytes (which covers data and checksums), but gone with the copy.
      versions.delete(key);
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
    return ChecksummedChunk.open(layout, key, blockSize, create, disk);
  }

  void checkRange(int index, long offset, int length) {
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

  /** fsyncs the inode's fan-out directory and its two parents (new entries need it). */
  private void syncDirectories(Path dir) throws IOException {
    Path root = layout.root();
    for (Path d = dir; d != null && d.startsWith(root); d = d.getParent()) {
      try (FileChannel channel = FileChannel.open(d, StandardOpenOption.READ)) {
        disk.force(channel, d);
      }
      if (d.equals(root)) {
        break;
      }
    }
  }
}
