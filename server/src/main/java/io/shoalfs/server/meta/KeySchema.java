package io.shoalfs.server.meta;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The one place that says how the namespace is laid out in the ordered key/value store.
 *
 * <pre>
 * Inode ids are 8-byte big-endian unsigned, so keys of one inode sort together and a
 * directory's entries sort by name (UTF-8 bytes): a readdir is one prefix scan.
 *
 *   A ino            -> Attr (protobuf)                      every live inode
 *   D parent name    -> child ino (8) + FileType number (1)  directory entries, no "." / ".."
 *   P ino            -> parent ino (8)                       directories only: '..' and the
 *                                                            walk up for rename-into-subtree
 *   L ino            -> symlink target (UTF-8)
 *   X ino name       -> xattr value
 *   G ino            -> GarbageInode (protobuf)              a regular file with chunks whose last
 *                                                            link went away (one without leaves
 *                                                            none): its data awaits reclaim.
 *                                                            holders = the members its K entries
 *                                                            named as replicas when it was freed.
 *                                                            Each holder's reaper deletes its own
 *                                                            copies, then purges its name; a holder
 *                                                            gone for good is purged by the leader's
 *                                                            reaper. The purge that empties holders
 *                                                            (or finds none: an earlier version's
 *                                                            record of a chunkless file) deletes this
 *                                                            record and the inode's K entries, in one
 *                                                            batch. Work per purge: O(1) per inode,
 *                                                            plus one K prefix scan for the last one
 *   K ino index(4)   -> ChunkLocation (protobuf)             the chunk map: replicas (member ids
 *                                                            in chain order) and current version
 *                                                            of chunk `index` of a file; the
 *                                                            index is big-endian unsigned, so an
 *                                                            inode's chunks are one prefix scan
 *                                                            in index order and the whole map
 *                                                            pages in (inode, index) order.
 *                                                            move_chunks re-files entries under
 *                                                            another inode and index (value kept
 *                                                            but for its chunk id): the data nodes
 *                                                            gave the copies that name first
 *   F ino kind(1) client(8) owner(8) start(8)
 *                    -> LockRange (protobuf)                 an advisory lock (kind: 1 POSIX,
 *                                                            2 FLOCK); an inode's locks of one
 *                                                            kind are one prefix scan
 *   S client(8)      -> SessionRecord (protobuf)             an open mount session: when it was
 *                                                            last seen (its clock, for locks; the
 *                                                            log, for expiry) and its highest
 *                                                            request seq (see {@link Sessions})
 *   O client(8) ino  -> (empty)                              an inode with no link left that the
 *                                                            client still has open (nlink 0); one
 *                                                            prefix scan per client
 *   C dir            -> CapabilityRecord (protobuf)          who holds a directory's capability:
 *                                                            its exclusive holder, or its shared
 *                                                            holders (see {@link Capabilities});
 *                                                            one get per directory a request
 *                                                            touches
 *   c client(8) dir  -> flags (1): 1 recalled, 2 shared      each holding, indexed by its
 *                                                            holder: one prefix scan finds what a
 *                                                            session holds (its end drops them,
 *                                                            its keep-alive lists the recalled)
 *   M "next_inode"   -> next inode id to hand out (8)
 *   M "inode_count"  -> number of live inodes (8)
 *   M "chunk_count"  -> number of K entries (8), kept in the batch that adds or removes one
 *   M "applied"      -> Raft term (8) + index (8) of the last applied log entry
 *   R client_id seq  -> MetaResponse bytes of that client's mutation number seq (8 bytes BE);
 *                       the last REPLY_WINDOW per client are kept (a client has many calls in
 *                       flight, which Raft may order differently from their numbers), and all
 *                       of a client's go when its session ends
 *
 * The root directory is inode 1 (mode 0755, uid/gid 0, nlink 2), created when the store is
 * empty; its P entry points at itself.
 * </pre>
 */
public final class KeySchema {

  public static final long ROOT_INODE = 1;

  static final byte ATTR = 'A';
  static final byte DENTRY = 'D';
  static final byte PARENT = 'P';
  static final byte SYMLINK = 'L';
  static final byte XATTR = 'X';
  static final byte GARBAGE = 'G';
  static final byte CHUNK = 'K';
  static final byte META = 'M';
  static final byte REPLY = 'R';
  static final byte LOCK = 'F';
  static final byte SESSION = 'S';
  static final byte ORPHAN = 'O';
  static final byte CAPABILITY = 'C';
  static final byte HELD_CAPABILITY = 'c';

  static final byte[] NEXT_INODE = meta("next_inode");
  static final byte[] INODE_COUNT = meta("inode_count");
  static final byte[] CHUNK_COUNT = meta("chunk_count");
  static final byte[] APPLIED = meta("applied");

  private KeySchema() {}

  static byte[] attr(long ino) {
    return inoKey(ATTR, ino);
  }

  static byte[] parent(long ino) {
    return inoKey(PARENT, ino);
  }

  static byte[] symlink(long ino) {
    return inoKey(SYMLINK, ino);
  }

  static byte[] garbage(long ino) {
    return inoKey(GARBAGE, ino);
  }

  static byte[] garbagePrefix() {
    return new byte[] {GARBAGE};
  }

  static byte[] chunk(long ino, int index) {
    return ByteBuffer.allocate(13).put(CHUNK).putLong(ino).putInt(index).array();
  }

  /** The prefix of every chunk of {@code ino}. */
  static byte[] chunkPrefix(long ino) {
    return inoKey(CHUNK, ino);
  }

  /** The prefix of the whole chunk map. */
  static byte[] chunkPrefix() {
    return new byte[] {CHUNK};
  }

  /** Replies kept per client: a retry of a call older than this many newer calls is refused. */
  static final long REPLY_WINDOW = 4096;

  static byte[] reply(long clientId, long seq) {
    return ByteBuffer.allocate(17).put(REPLY).putLong(clientId).putLong(seq).array();
  }

  static byte[] lock(long ino, int kind, long clientId, long owner, long start) {
    return ByteBuffer.allocate(34).put(LOCK).putLong(ino).put((byte) kind).putLong(clientId)
        .putLong(owner).putLong(start).array();
  }

  /** The prefix of every lock of one kind on {@code ino}. */
  static byte[] lockPrefix(long ino, int kind) {
    return ByteBuffer.allocate(10).put(LOCK).putLong(ino).put((byte) kind).array();
  }

  static byte[] orphan(long clientId, long ino) {
    return ByteBuffer.allocate(17).put(ORPHAN).putLong(clientId).putLong(ino).array();
  }

  /** Every stored reply of one client. */
  static byte[] replyPrefix(long clientId) {
    return inoKey(REPLY, clientId);
  }

  /** Every orphan of one client. */
  static byte[] orphanPrefix(long clientId) {
    return inoKey(ORPHAN, clientId);
  }

  /** The inode part of an O key. */
  static long orphanInodeOf(byte[] key) {
    return ByteBuffer.wrap(key, 9, 8).getLong();
  }

  static byte[] capability(long dir) {
    return inoKey(CAPABILITY, dir);
  }

  static byte[] heldCapability(long clientId, long dir) {
    return ByteBuffer.allocate(17).put(HELD_CAPABILITY).putLong(clientId).putLong(dir).array();
  }

  /** Every capability one client holds. */
  static byte[] heldCapabilityPrefix(long clientId) {
    return inoKey(HELD_CAPABILITY, clientId);
  }

  /** The directory part of a c key. */
  static long heldCapabilityDirOf(byte[] key) {
    return ByteBuffer.wrap(key, 9, 8).getLong();
  }

  static byte[] session(long clientId) {
    return inoKey(SESSION, clientId);
  }

  /** Every session. */
  static byte[] sessionPrefix() {
    return new byte[] {SESSION};
  }

  static byte[] dentry(long parent, String name) {
    return withName(DENTRY, parent, name);
  }

  /** The prefix of every entry of directory {@code parent}. */
  static byte[] dentryPrefix(long parent) {
    return inoKey(DENTRY, parent);
  }

  static byte[] xattr(long ino, String name) {
    return withName(XATTR, ino, name);
  }

  static byte[] xattrPrefix(long ino) {
    return inoKey(XATTR, ino);
  }

  /** The name part of a D or X key. */
  static String nameOf(byte[] key) {
    return new String(key, 9, key.length - 9, StandardCharsets.UTF_8);
  }

  /** The inode (or client id) part of an A, P, L, G, K, R, S, O, C or c key. */
  static long inodeOf(byte[] key) {
    return ByteBuffer.wrap(key, 1, 8).getLong();
  }

  /** The chunk index part of a K key. */
  static int chunkIndexOf(byte[] key) {
    return ByteBuffer.wrap(key, 9, 4).getInt();
  }

  static byte[] dentryValue(long child, int type) {
    return ByteBuffer.allocate(9).putLong(child).put((byte) type).array();
  }

  static long dentryInode(byte[] value) {
    return ByteBuffer.wrap(value, 0, 8).getLong();
  }

  static int dentryType(byte[] value) {
    return value[8];
  }

  static byte[] u64(long value) {
    return ByteBuffer.allocate(8).putLong(value).array();
  }

  static long u64(byte[] value) {
    return ByteBuffer.wrap(value).getLong();
  }

  private static byte[] inoKey(byte prefix, long ino) {
    return ByteBuffer.allocate(9).put(prefix).putLong(ino).array();
  }

  private static byte[] withName(byte prefix, long ino, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(9 + n.length).put(prefix).putLong(ino).put(n).array();
  }

  private static byte[] meta(String name) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocate(1 + n.length).put(META).put(n).array();
  }
}
