package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.CheckReplicasOp;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.ListChunksOp;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;

/**
 * The chunk map (the 'K' keys of {@link KeySchema}): which members hold each chunk of a file,
 * in chain order, and which version of it is current. This class holds the typed access and
 * the read-only operations; {@link ChunkMapWrites} holds the mutations.
 */
class ChunkMap {

  static final int DEFAULT_LIST_LIMIT = 1000;
  static final int MAX_LIST_LIMIT = 10_000;

  final KvReader kv;

  ChunkMap(KvReader kv) {
    this.kv = kv;
  }

  /** The current location of {@code chunk}, or null if the map has no such chunk. */
  ChunkLocation location(ChunkId chunk) {
    byte[] bytes = kv.get(KeySchema.chunk(chunk.getInode(), chunk.getIndex()));
    return bytes == null ? null : parse(bytes);
  }

  /** How many chunks the map holds. */
  long count() {
    byte[] v = kv.get(KeySchema.CHUNK_COUNT);
    return v == null ? 0 : KeySchema.u64(v);
  }

  /** The chunks [first_index, first_index + count) of the inode that exist, in index order. */
  MetaResponse getChunkLocations(GetChunkLocationsOp op) {
    if (op.getInode() == 0) {
      return Replies.fail(Status.EINVAL, "inode 0 has no chunks");
    }
    // Indices are unsigned 32-bit: widen so first + count cannot wrap.
    long end = Integer.toUnsignedLong(op.getFirstIndex()) + Integer.toUnsignedLong(op.getCount());
    MetaResponse.Builder reply = MetaResponse.newBuilder().setStatus(Status.OK);
    if (op.getCount() == 0) {
      return reply.build();
    }
    byte[] prefix = KeySchema.chunkPrefix(op.getInode());
    byte[] from = KeySchema.chunk(op.getInode(), op.getFirstIndex());
    kv.scan(prefix, from, (key, value) -> {
      if (Integer.toUnsignedLong(KeySchema.chunkIndexOf(key)) >= end) {
        return false;
      }
      reply.addLocations(parse(value));
      return true;
    });
    return reply.build();
  }

  /**
   * One page of the whole map in (inode, index) order, starting at (start_inode, start_index)
   * inclusive; more_chunks says whether another page follows.
   */
  MetaResponse listChunks(ListChunksOp op) {
    int limit = op.getLimit() == 0 ? DEFAULT_LIST_LIMIT : Math.min(op.getLimit(), MAX_LIST_LIMIT);
    MetaResponse.Builder reply = MetaResponse.newBuilder().setStatus(Status.OK);
    byte[] prefix = KeySchema.chunkPrefix();
    byte[] from = KeySchema.chunk(op.getStartInode(), op.getStartIndex());
    kv.scan(prefix, from, (key, value) -> {
      if (reply.getLocationsCount() == limit) {
        reply.setMoreChunks(true);
        return false;
      }
      reply.addLocations(parse(value));
      return true;
    });
    return reply.build();
  }

  /**
   * The copies {@code member} holds that are garbage: their chunk is not in the map, or the
   * member is not among its replicas. Each is answered as sent (so version is the copy's). A
   * copy whose member is a replica is kept whatever its version: an older copy is one that
   * has not yet been written at the current version, not garbage.
   */
  MetaResponse checkReplicas(CheckReplicasOp op) {
    if (op.getMember().isEmpty()) {
      return Replies.fail(Status.EINVAL, "check_replicas needs the member");
    }
    MetaResponse.Builder reply = MetaResponse.newBuilder().setStatus(Status.OK);
    for (ChunkLocation held : op.getHeldList()) {
      ChunkLocation current = location(held.getChunk());
      if (current == null || !current.getReplicasList().contains(op.getMember())) {
        reply.addLocations(held);
      }
    }
    return reply.build();
  }

  static ChunkLocation parse(byte[] bytes) {
    try {
      return ChunkLocation.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("corrupt ChunkLocation record", e);
    }
  }
}
