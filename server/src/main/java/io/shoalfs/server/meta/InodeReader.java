package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GarbageInode;
import java.util.concurrent.atomic.AtomicBoolean;

/** Typed reads of the namespace keys (see {@link KeySchema}). */
class InodeReader {

  /** A directory entry's target, as stored under its D key. */
  record Child(long inode, FileType type) {}

  final KvReader kv;

  InodeReader(KvReader kv) {
    this.kv = kv;
  }

  /** The attributes of {@code ino}, or null if no such inode lives. */
  Attr attr(long ino) {
    byte[] bytes = kv.get(KeySchema.attr(ino));
    return bytes == null ? null : parse(bytes);
  }

  Child child(long parent, String name) {
    byte[] v = kv.get(KeySchema.dentry(parent, name));
    if (v == null) {
      return null;
    }
    return new Child(KeySchema.dentryInode(v), FileType.forNumber(KeySchema.dentryType(v)));
  }

  /** The parent of directory {@code dir} (the root is its own parent), or 0 if unknown. */
  long parentOf(long dir) {
    byte[] v = kv.get(KeySchema.parent(dir));
    return v == null ? 0 : KeySchema.u64(v);
  }

  boolean hasEntries(long dir) {
    AtomicBoolean any = new AtomicBoolean();
    byte[] prefix = KeySchema.dentryPrefix(dir);
    kv.scan(prefix, prefix, (k, v) -> {
      any.set(true);
      return false;
    });
    return any.get();
  }

  String symlinkTarget(long ino) {
    byte[] v = kv.get(KeySchema.symlink(ino));
    return v == null ? null : new String(v, java.nio.charset.StandardCharsets.UTF_8);
  }

  byte[] xattr(long ino, String name) {
    return kv.get(KeySchema.xattr(ino, name));
  }

  long counter(byte[] key) {
    byte[] v = kv.get(key);
    return v == null ? 0 : KeySchema.u64(v);
  }

  static Attr parse(byte[] bytes) {
    try {
      return Attr.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("corrupt Attr record", e);
    }
  }

  /** The garbage record of {@code ino}, or null if it has none. */
  GarbageInode garbage(long ino) {
    byte[] bytes = kv.get(KeySchema.garbage(ino));
    return bytes == null ? null : parseGarbage(bytes);
  }

  static GarbageInode parseGarbage(byte[] bytes) {
    try {
      return GarbageInode.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("corrupt GarbageInode record", e);
    }
  }
}
