package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GarbageInode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Typed writes of the namespace keys into one batch (see {@link KeySchema}). */
final class InodeWriter extends InodeReader {

  private final KvBatch batch;
  // What this batch did to attributes, for the answer (MetaResponse.changed and freed):
  // clients update their caches from it instead of asking again.
  private final Map<Long, Attr> written = new LinkedHashMap<>();
  private final Set<Long> freed = new LinkedHashSet<>();

  InodeWriter(KvBatch batch) {
    super(batch);
    this.batch = batch;
  }

  void putAttr(Attr attr) {
    batch.put(KeySchema.attr(attr.getInode()), attr.toByteArray());
    written.put(attr.getInode(), attr);
    freed.remove(attr.getInode());
  }

  /** The attributes this writer put, the last put of each inode, in first-put order. */
  Collection<Attr> writtenAttrs() {
    return Collections.unmodifiableCollection(written.values());
  }

  /** The inodes this writer freed. */
  Set<Long> freedInodes() {
    return Collections.unmodifiableSet(freed);
  }

  void putChild(long parent, String name, long child, FileType type) {
    batch.put(KeySchema.dentry(parent, name), KeySchema.dentryValue(child, type.getNumber()));
  }

  void deleteChild(long parent, String name) {
    batch.delete(KeySchema.dentry(parent, name));
  }

  void putParent(long dir, long parent) {
    batch.put(KeySchema.parent(dir), KeySchema.u64(parent));
  }

  void putSymlinkTarget(long ino, String target) {
    batch.put(KeySchema.symlink(ino), target.getBytes(StandardCharsets.UTF_8));
  }

  void putXattr(long ino, String name, byte[] value) {
    batch.put(KeySchema.xattr(ino, name), value);
  }

  void deleteXattr(long ino, String name) {
    batch.delete(KeySchema.xattr(ino, name));
  }

  /** Hands out the next inode id from the stored counter (never a clock or random). */
  long allocateInode() {
    long next = counter(KeySchema.NEXT_INODE);
    batch.put(KeySchema.NEXT_INODE, KeySchema.u64(next + 1));
    addToCounter(KeySchema.INODE_COUNT, 1);
    return next;
  }

  /**
   * Takes {@code count} ids from the stored counter for a session to create with later (see
   * {@link InodeLeases}); they are not live inodes yet. Returns the first.
   */
  long reserveInodes(int count) {
    long first = counter(KeySchema.NEXT_INODE);
    batch.put(KeySchema.NEXT_INODE, KeySchema.u64(first + count));
    return first;
  }

  /** Counts a new inode whose id was reserved earlier (the counter moved then). */
  long adoptReservedInode(long ino) {
    addToCounter(KeySchema.INODE_COUNT, 1);
    return ino;
  }

  void addToCounter(byte[] key, long delta) {
    batch.put(key, KeySchema.u64(counter(key) + delta));
  }

  /**
   * Forgets an inode whose last link went away: its attributes, xattrs, symlink target,
   * parent pointer and (a directory) capability. A regular file with chunks leaves a garbage
   * record so its data can be reclaimed, naming every member its chunk map lists as a replica:
   * each of them deletes its copies and then leaves the record (see
   * {@link NamespaceWrites#purge}).
   *
   * <p>A file the chunk map lists no chunk of leaves none: every data node's reaper would page
   * through the record and purge it through the log for nothing, and a run of deleted empty
   * files (rm of a tree, a mail spool) made those passes stall the mutations behind them.
   * Copies written but never registered (a write cut short by the unlink) are the orphan
   * collector's, as any copy the chunk map does not count.
   */
  void free(Attr attr) {
    long ino = attr.getInode();
    batch.delete(KeySchema.attr(ino));
    written.remove(ino);
    freed.add(ino);
    batch.delete(KeySchema.symlink(ino));
    batch.delete(KeySchema.parent(ino));
    byte[] prefix = KeySchema.xattrPrefix(ino);
    List<byte[]> xattrs = new ArrayList<>();
    kv.scan(prefix, prefix, (k, v) -> xattrs.add(k));
    xattrs.forEach(batch::delete);
    addToCounter(KeySchema.INODE_COUNT, -1);
    if (attr.getType() == FileType.DIRECTORY) {
      new Capabilities(batch).forget(ino, batch); // nobody can hold what is gone
    }
    if (attr.getType() == FileType.REGULAR) {
      Set<String> holders = holdersOf(ino);
      if (!holders.isEmpty()) {
        putGarbage(GarbageInode.newBuilder()
            .setInode(ino)
            .setSize(attr.getSize())
            .addAllHolders(holders)
            .build());
      }
    }
  }

  void putOrphan(long clientId, long ino) {
    batch.put(KeySchema.orphan(clientId, ino), new byte[0]);
  }

  void putGarbage(GarbageInode garbage) {
    batch.put(KeySchema.garbage(garbage.getInode()), garbage.toByteArray());
  }

  void deleteGarbage(long ino) {
    batch.delete(KeySchema.garbage(ino));
  }

  /** Every member the chunk map lists as a replica of a chunk of {@code ino}, sorted. */
  private Set<String> holdersOf(long ino) {
    Set<String> holders = new TreeSet<>();
    byte[] prefix = KeySchema.chunkPrefix(ino);
    kv.scan(prefix, prefix, (key, value) -> {
      holders.addAll(ChunkMap.parse(value).getReplicasList());
      return true;
    });
    return holders;
  }
}
