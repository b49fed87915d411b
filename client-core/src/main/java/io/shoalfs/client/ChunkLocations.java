package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReportReplicaFailureOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the chunks of files live: a cache of the metadata chunk map, and the chunk map calls
 * that change it (allocate, report a failed replica).
 *
 * <p>Close-to-open: {@link #forget(long)} drops an inode's entries when the file is opened, so
 * an open sees the chunk map as it is then. In between, a cached location is trusted until a
 * replica says otherwise (STALE_VERSION, or a failure), and the caller then {@link #refresh}es it.
 * Chunks that do not exist are not cached: a chunk someone else writes later must not stay a
 * hole for this client.
 *
 * <p>Bounded by inode (Caffeine): entries are kept per inode so that forgetting one file is one
 * removal, not a scan of every cached chunk.
 */
final class ChunkLocations {
  /**
   * Chunk map calls are made in no user's name: the file was permission-checked when it was
   * opened, and the chunk map has no permissions of its own.
   */
  static final Caller DATA_PLANE = Caller.getDefaultInstance();
  static final long DEFAULT_MAX_INODES = 10_000;
  /** A lookup asks for at least this many chunks, so that sequential I/O finds the next ones cached. */
  static final int LOOKAHEAD = 8;
  private static final long MAX_INDEX = 0xFFFF_FFFFL; // ChunkId.index is a uint32

  private final MetaClient meta;
  private final Cache<Long, Map<Long, ChunkLocation>> byInode;
  /** Files this mount created, not opened since: they had no chunks when created. */
  private final Cache<Long, Boolean> bornEmpty;

  ChunkLocations(MetaClient meta, long maxInodes) {
    this.meta = meta;
    this.byInode = Caffeine.newBuilder().maximumSize(maxInodes).build();
    this.bornEmpty = Caffeine.newBuilder().maximumSize(maxInodes).build();
  }

  /** This mount just created {@code inode}: it has no chunks yet. */
  void created(long inode) {
    bornEmpty.put(inode, Boolean.TRUE);
  }

  static ChunkId chunkId(long inode, long index) throws RpcException {
    if (index < 0 || index > MAX_INDEX) {
      throw new RpcException(Status.EFBIG, "offset beyond the last chunk");
    }
    return ChunkId.newBuilder().setInode(inode).setIndex((int) index).build();
  }

  static long indexOf(ChunkId chunk) {
    return Integer.toUnsignedLong(chunk.getIndex());
  }

  /** The cached location of one chunk, if any. */
  Optional<ChunkLocation> cached(long inode, long index) {
    Map<Long, ChunkLocation> chunks = byInode.getIfPresent(inode);
    return Optional.ofNullable(chunks == null ? null : chunks.get(index));
  }

  /**
   * The locations of the given chunks of {@code inode}: the cached ones, and the others in one
   * get_chunk_locations call. A chunk that does not exist is absent from the answer.
   */
  Map<Long, ChunkLocation> lookup(long inode, Collection<Long> indices) throws RpcException {
    Map<Long, ChunkLocation> found = new HashMap<>();
    long first = Long.MAX_VALUE;
    long last = -1;
    for (long index : indices) {
      Optional<ChunkLocation> hit = cached(inode, index);
      if (hit.isPresent()) {
        found.put(index, hit.get());
      } else {
        first = Math.min(first, index);
        last = Math.max(last, index);
      }
    }
    if (last >= 0) {
      long count = Math.min(Math.max(last - first + 1, LOOKAHEAD), MAX_INDEX - first + 1);
      Map<Long, ChunkLocation> fetched = fetch(inode, first, count);
      for (long index : indices) {
        ChunkLocation loc = fetched.get(index);
        if (loc != null && !found.containsKey(index)) {
          found.put(index, loc);
        }
      }
    }
    return found;
  }

  /**
   * Like {@link #lookup}, for writing: a file this mount created and has not opened since is
   * not asked about (it had no chunks), and its missing chunks are allocated straight away.
   * Safe if another mount wrote it meanwhile: allocate answers an existing chunk's location.
   * Not for reads, which would take such a chunk for a hole.
   */
  Map<Long, ChunkLocation> lookupForWrite(long inode, Collection<Long> indices)
      throws RpcException {
    if (bornEmpty.getIfPresent(inode) == null) {
      return lookup(inode, indices);
    }
    Map<Long, ChunkLocation> found = new HashMap<>();
    for (long index : indices) {
      cached(inode, index).ifPresent(loc -> found.put(index, loc));
    }
    return found;
  }

  /**
   * The chunks [first, first + count) of {@code inode} that exist, as the chunk map says now;
   * the cache is updated with them.
   */
  Map<Long, ChunkLocation> fetch(long inode, long first, long count) throws RpcException {
    chunkId(inode, first); // range check
    MetaResponse r = meta.call(DATA_PLANE, MetaRequest.newBuilder().setGetChunkLocations(
        GetChunkLocationsOp.newBuilder()
            .setInode(inode)
            .setFirstIndex((int) first)
            .setCount((int) Math.min(count, MAX_INDEX))));
    Map<Long, ChunkLocation> out = new HashMap<>();
    for (ChunkLocation loc : r.getLocationsList()) {
      out.put(indexOf(loc.getChunk()), remember(loc));
    }
    return out;
  }

  /** The locations cached for {@code inode}'s chunks (those this mount wrote or read). */
  List<ChunkLocation> cachedOf(long inode) {
    Map<Long, ChunkLocation> chunks = byInode.getIfPresent(inode);
    return chunks == null ? List.of() : List.copyOf(chunks.values());
  }

  /** Caches locations the chunk map gave in another answer (resolve for an open). */
  void remember(List<ChunkLocation> found) {
    found.forEach(this::remember);
  }

  /** Forgets the cached location of one chunk and asks the chunk map again. */
  Optional<ChunkLocation> refresh(ChunkId chunk) throws RpcException {
    Map<Long, ChunkLocation> chunks = byInode.getIfPresent(chunk.getInode());
    if (chunks != null) {
      chunks.remove(indexOf(chunk));
    }
    return Optional.ofNullable(fetch(chunk.getInode(), indexOf(chunk), 1).get(indexOf(chunk)));
  }

  /**
   * allocate_chunk: creates the chunk, or drops its replicas that are not live and bumps its
   * version. The server fills in the membership; the client names the chunk only.
   */
  ChunkLocation allocate(ChunkId chunk) throws RpcException {
    MetaResponse r = meta.call(DATA_PLANE, MetaRequest.newBuilder()
        .setAllocateChunk(AllocateChunkOp.newBuilder().setChunk(chunk)));
    return answer(chunk, r);
  }

  /** report_replica_failure: {@code member} failed this chunk at {@code version}. */
  ChunkLocation reportFailure(ChunkId chunk, long version, String member) throws RpcException {
    MetaResponse r = meta.call(DATA_PLANE, MetaRequest.newBuilder().setReportReplicaFailure(
        ReportReplicaFailureOp.newBuilder()
            .setChunk(chunk)
            .setVersion(version)
            .setMember(member)));
    return answer(chunk, r);
  }

  /** Close-to-open: the next lookup of any chunk of {@code inode} asks the chunk map. */
  void forget(long inode) {
    byInode.invalidate(inode);
    bornEmpty.invalidate(inode);
  }

  private ChunkLocation answer(ChunkId chunk, MetaResponse r) throws RpcException {
    if (r.getLocationsCount() == 0 || r.getLocations(0).getReplicasCount() == 0) {
      throw new RpcException(Status.EIO, "chunk map answered no location for " + chunk.getInode()
          + "/" + indexOf(chunk));
    }
    return remember(r.getLocations(0));
  }

  /** Caches {@code loc} unless a newer version is cached already (answers can cross). */
  private ChunkLocation remember(ChunkLocation loc) {
    Map<Long, ChunkLocation> chunks =
        byInode.get(loc.getChunk().getInode(), k -> new ConcurrentHashMap<>());
    return chunks.merge(indexOf(loc.getChunk()), loc,
        (old, fresh) -> fresh.getVersion() >= old.getVersion() ? fresh : old);
  }
}
