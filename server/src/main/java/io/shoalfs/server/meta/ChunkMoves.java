package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.MoveChunksOp;
import io.shoalfs.proto.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * move_chunks: every chunk of one regular file appended to another as a change of the chunk
 * map alone (see MoveChunksOp in the proto). Checks everything before it writes, so a refusal
 * leaves the batch as it was and an acceptance moves every chunk in the one entry. The chunks
 * keep their version and replicas: the data nodes gave each copy the target's name beforehand
 * (link_chunk at that version), and a version that moved on since (a write that dropped a
 * replica, the healer's fence) refuses the whole move, STALE_VERSION, since a replica it names
 * might not have the target's name. The source keeps no chunk, so neither its own removal nor
 * the garbage collection of its inode reaches what the target now owns.
 */
final class ChunkMoves {
  /** Chunk indexes are unsigned 32-bit: the last one a file can have. */
  private static final long MAX_INDEX = 0xFFFF_FFFFL;

  private final InodeWriter store;
  private final Permissions permissions;
  private final ChunkMapWrites chunks;

  ChunkMoves(InodeWriter store, Permissions permissions, ChunkMapWrites chunks) {
    this.store = store;
    this.permissions = permissions;
    this.chunks = chunks;
  }

  MetaResponse move(Caller caller, MoveChunksOp op) {
    if (op.getSource() == op.getTarget()) {
      return Replies.fail(Status.EINVAL, "move_chunks within one file (inode " + op.getSource() + ")");
    }
    if (op.getChunkSize() == 0 || op.getVersionsCount() == 0) {
      return Replies.fail(Status.EINVAL, "move_chunks needs the chunk size and at least one chunk");
    }
    Attr source = store.attr(op.getSource());
    Attr target = store.attr(op.getTarget());
    MetaResponse refused = checkFile(caller, source, op.getSource(), "source");
    if (refused == null) {
      refused = checkFile(caller, target, op.getTarget(), "target");
    }
    if (refused != null) {
      return refused;
    }
    long chunkSize = Integer.toUnsignedLong(op.getChunkSize());
    int count = op.getVersionsCount();
    long first = Integer.toUnsignedLong(op.getTargetIndex());
    if (first + count - 1 > MAX_INDEX || first + count > Long.MAX_VALUE / chunkSize) {
      return Replies.fail(Status.EFBIG, "chunk " + (first + count - 1) + " is past the last one"
          + " a file can have");
    }
    if (source.getSize() != count * chunkSize) {
      return Replies.fail(Status.EINVAL, "source " + op.getSource() + " has " + source.getSize()
          + " bytes, not " + count + " whole chunks of " + chunkSize);
    }
    if (target.getSize() != first * chunkSize) {
      return Replies.fail(Status.EINVAL, "target " + op.getTarget() + " has " + target.getSize()
          + " bytes: chunks go at its end, which must be chunk " + first + " (offset "
          + first * chunkSize + ")");
    }
    List<ChunkLocation> moving = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ChunkId from = ChunkId.newBuilder().setInode(op.getSource()).setIndex(i).build();
      ChunkLocation location = chunks.location(from);
      if (location == null) {
        return Replies.fail(Status.ENOENT, "source " + op.getSource() + " has no chunk " + i);
      }
      if (location.getVersion() != op.getVersions(i) || location.getCopying()) {
        return MetaResponse.newBuilder().setStatus(Status.STALE_VERSION).addLocations(location)
            .setError("chunk " + i + " of " + op.getSource() + " is at version "
                + location.getVersion() + (location.getCopying() ? " (copying)" : "")
                + ", the move was linked at " + op.getVersions(i))
            .build();
      }
      if (chunks.location(targetChunk(op, i)) != null) {
        return Replies.fail(Status.EEXIST, "target " + op.getTarget() + " already has chunk "
            + Integer.toUnsignedString(targetChunk(op, i).getIndex()));
      }
      moving.add(location);
    }
    MetaResponse.Builder answer = MetaResponse.newBuilder().setStatus(Status.OK);
    for (int i = 0; i < count; i++) {
      answer.addLocations(chunks.move(moving.get(i), targetChunk(op, i)));
    }
    store.putAttr(source.toBuilder().setSize(0).setMtimeNs(op.getNowNs())
        .setCtimeNs(op.getNowNs()).build());
    Attr grown = target.toBuilder().setSize((first + count) * chunkSize)
        .setMtimeNs(op.getNowNs()).setCtimeNs(op.getNowNs()).build();
    store.putAttr(grown);
    return answer.setAttr(grown).build();
  }

  private static ChunkId targetChunk(MoveChunksOp op, int i) {
    return ChunkId.newBuilder().setInode(op.getTarget()).setIndex(op.getTargetIndex() + i).build();
  }

  /** Null if {@code attr} is a live regular file {@code caller} may write; else the refusal. */
  private MetaResponse checkFile(Caller caller, Attr attr, long ino, String role) {
    if (attr == null) {
      return Replies.fail(Status.ENOENT, "no " + role + " inode " + ino);
    }
    if (attr.getType() != FileType.REGULAR) {
      return Replies.fail(attr.getType() == FileType.DIRECTORY ? Status.EISDIR : Status.EINVAL,
          role + " " + ino + " is not a regular file: only files have chunks");
    }
    if (attr.getNlink() == 0) {
      // An unlinked file still open somewhere: its chunks are about to be garbage.
      return Replies.fail(Status.ENOENT, role + " " + ino + " has no link left");
    }
    Status allowed = permissions.check(caller, attr, Permissions.WRITE);
    return allowed == Status.OK ? null
        : Replies.fail(allowed, "no write permission on the " + role + " " + ino);
  }
}
