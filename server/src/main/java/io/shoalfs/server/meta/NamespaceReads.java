package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetXattrOp;
import io.shoalfs.proto.ListGarbageOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.ResolveOp;
import io.shoalfs.proto.Status;
import java.util.Arrays;

/**
 * The read-only namespace operations; they never write. Each asks the {@link CapabilityGate}
 * about the directories it reads: the one looked up in, listed, walked through or asked about.
 */
final class NamespaceReads {

  static final int DEFAULT_READDIR_LIMIT = 1000;
  static final int MAX_READDIR_LIMIT = 10_000;
  static final int DEFAULT_GARBAGE_LIMIT = 1000;
  static final int MAX_GARBAGE_LIMIT = 10_000;

  private final InodeReader store;
  private final CapabilityGate gate;

  NamespaceReads(InodeReader store, CapabilityGate gate) {
    this.store = store;
    this.gate = gate;
  }

  MetaResponse lookup(LookupOp op) {
    Attr parent = store.attr(op.getParent());
    if (parent == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getParent());
    }
    if (parent.getType() != FileType.DIRECTORY) {
      return Replies.fail(Status.ENOTDIR, "inode " + op.getParent() + " is not a directory");
    }
    MetaResponse held = gate.refusal(op.getParent());
    if (held != null) {
      return held;
    }
    Status nameStatus = Names.checkEntryName(op.getName());
    if (nameStatus != Status.OK) {
      return Replies.fail(nameStatus, "bad name");
    }
    InodeReader.Child child = store.child(op.getParent(), op.getName());
    if (child == null) {
      return Replies.fail(Status.ENOENT, "no entry " + op.getName());
    }
    // The child is not touched: its attributes are the parent's entry's business.
    Attr attr = store.attr(child.inode());
    return attr == null ? Replies.fail(Status.ENOENT, "no inode " + child.inode()) : Replies.ok(attr);
  }

  /** A directory's attributes are its holder's to change: asking about one touches it. */
  MetaResponse getAttr(long ino) {
    Attr attr = store.attr(ino);
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + ino);
    }
    MetaResponse held = gate.refusal(attr);
    return held != null ? held : Replies.ok(attr);
  }

  /**
   * Walks an absolute path from the root, entry by entry; symlinks are not followed. Each
   * component is limited to NAME_MAX, the whole path is not. Every directory walked through
   * touches the gate, and so does the end of the walk when it is a directory.
   */
  MetaResponse resolve(ResolveOp op) {
    String path = op.getPath();
    if (!path.startsWith("/")) {
      return Replies.fail(Status.EINVAL, "path is not absolute: " + path);
    }
    // No PATH_MAX here: the kernel limits the paths a program passes, but libfuse's high-level
    // API hands us the full path of an entry reached by *at() calls, which may be far longer.
    Attr current = store.attr(KeySchema.ROOT_INODE);
    for (String component : path.split("/")) {
      if (component.isEmpty() || component.equals(".")) {
        continue;
      }
      if (current.getType() != FileType.DIRECTORY) {
        return Replies.fail(Status.ENOTDIR, "not a directory on the way to " + path);
      }
      MetaResponse held = gate.refusal(current.getInode());
      if (held != null) {
        return held;
      }
      long next;
      if (component.equals("..")) {
        next = store.parentOf(current.getInode());
      } else {
        if (Names.utf8Length(component) > Names.NAME_MAX) {
          return Replies.fail(Status.ENAMETOOLONG, "component too long in " + path);
        }
        InodeReader.Child child = store.child(current.getInode(), component);
        if (child == null) {
          return Replies.fail(Status.ENOENT, "no entry " + component + " in " + path);
        }
        next = child.inode();
      }
      current = store.attr(next);
      if (current == null) {
        return Replies.fail(Status.ENOENT, "dangling entry in " + path);
      }
    }
    MetaResponse held = gate.refusal(current);
    return held != null ? held : Replies.ok(current);
  }

  /**
   * Entries sorted by name, without "." and ".." (the client adds those); with their
   * attributes when the op asks.
   */
  MetaResponse readDir(ReadDirOp op) {
    Attr dir = store.attr(op.getInode());
    if (dir == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    if (dir.getType() != FileType.DIRECTORY) {
      return Replies.fail(Status.ENOTDIR, "inode " + op.getInode() + " is not a directory");
    }
    MetaResponse held = gate.refusal(op.getInode());
    if (held != null) {
      return held;
    }
    int limit = op.getLimit() == 0 ? DEFAULT_READDIR_LIMIT : Math.min(op.getLimit(), MAX_READDIR_LIMIT);
    byte[] prefix = KeySchema.dentryPrefix(op.getInode());
    byte[] from = prefix;
    if (!op.getStartAfter().isEmpty()) {
      // The smallest key greater than the start_after entry: that key plus a zero byte.
      byte[] after = KeySchema.dentry(op.getInode(), op.getStartAfter());
      from = Arrays.copyOf(after, after.length + 1);
    }
    MetaResponse.Builder reply = MetaResponse.newBuilder().setStatus(Status.OK);
    store.kv.scan(prefix, from, (key, value) -> {
      if (reply.getEntriesCount() == limit) {
        reply.setHasMore(true);
        return false;
      }
      DirEntry.Builder entry = DirEntry.newBuilder()
          .setName(KeySchema.nameOf(key))
          .setInode(KeySchema.dentryInode(value))
          .setType(FileType.forNumber(KeySchema.dentryType(value)));
      if (op.getWithAttrs()) {
        Attr attr = store.attr(entry.getInode());
        if (attr != null) {
          entry.setAttr(attr);
        }
      }
      reply.addEntries(entry);
      return true;
    });
    return reply.build();
  }

  MetaResponse readLink(long ino) {
    Attr attr = store.attr(ino);
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no inode " + ino);
    }
    if (attr.getType() != FileType.SYMLINK) {
      return Replies.fail(Status.EINVAL, "inode " + ino + " is not a symlink");
    }
    return MetaResponse.newBuilder().setStatus(Status.OK).setTarget(store.symlinkTarget(ino)).build();
  }

  MetaResponse getXattr(GetXattrOp op) {
    if (store.attr(op.getInode()) == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getInode());
    }
    Status nameStatus = Names.checkXattrName(op.getName());
    if (nameStatus != Status.OK) {
      return Replies.fail(nameStatus, "bad xattr name");
    }
    byte[] value = store.xattr(op.getInode(), op.getName());
    if (value == null) {
      return Replies.fail(Status.ENODATA, "no xattr " + op.getName());
    }
    return MetaResponse.newBuilder()
        .setStatus(Status.OK)
        .setValue(com.google.protobuf.ByteString.copyFrom(value))
        .build();
  }

  MetaResponse listXattr(long ino) {
    if (store.attr(ino) == null) {
      return Replies.fail(Status.ENOENT, "no inode " + ino);
    }
    MetaResponse.Builder reply = MetaResponse.newBuilder().setStatus(Status.OK);
    byte[] prefix = KeySchema.xattrPrefix(ino);
    store.kv.scan(prefix, prefix, (key, value) -> {
      reply.addNames(KeySchema.nameOf(key));
      return true;
    });
    return reply.build();
  }

  /** Up to limit garbage records (with their holders) from start_inode on, in inode order. */
  MetaResponse listGarbage(ListGarbageOp op) {
    int limit = op.getLimit() == 0 ? DEFAULT_GARBAGE_LIMIT
        : Math.min(op.getLimit(), MAX_GARBAGE_LIMIT);
    MetaResponse.Builder reply = MetaResponse.newBuilder().setStatus(Status.OK);
    byte[] prefix = KeySchema.garbagePrefix();
    store.kv.scan(prefix, KeySchema.garbage(op.getStartInode()), (key, value) -> {
      reply.addGarbage(InodeReader.parseGarbage(value));
      return reply.getGarbageCount() < limit;
    });
    return reply.build();
  }

  MetaResponse namespaceStats(long chunkCount) {
    return MetaResponse.newBuilder()
        .setStatus(Status.OK)
        .setInodeCount(store.counter(KeySchema.INODE_COUNT))
        .setChunkCount(chunkCount)
        .build();
  }
}
