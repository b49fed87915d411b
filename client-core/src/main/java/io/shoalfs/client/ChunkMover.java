package io.shoalfs.client;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.DeleteChunkOp;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.LinkChunkOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.MoveChunksOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends every chunk of one file to another without moving a byte over the network, in three
 * steps: each replica of each source chunk gives its copy the target's name too (link_chunk, a
 * hard link on the data node); one move_chunks makes the chunk map file the chunks under the
 * target, atomically; then the source's names are deleted on the replicas (what is left behind
 * by a crash in between is not in the chunk map, and the orphan collector removes it).
 *
 * <p>A refusal at any step before the move (a replica down, a version moved on because the
 * healer is copying the chunk, a layout move_chunks does not take) is not an error: the answer
 * says the chunks were not moved, the target names made so far are deleted again, and the
 * caller copies the bytes instead.
 */
final class ChunkMover {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkMover.class);

  private final ShoalTransport transport;
  private final MetaClient meta;
  private final ChunkLocations locations;
  private final Duration timeout;

  ChunkMover(ShoalTransport transport, MetaClient meta, ChunkLocations locations,
      Duration timeout) {
    this.transport = transport;
    this.meta = meta;
    this.locations = locations;
    this.timeout = timeout;
  }

  /**
   * Moves the {@code chunks} chunks of {@code source} (exactly its size) to the end of {@code
   * target}, whose size is {@code targetIndex} whole chunks. True if they moved; false if they
   * did not and nothing changed (the caller copies instead). A failure after which it is not
   * known whether the move was applied is thrown.
   */
  boolean append(Caller caller, long source, int chunks, long target, int targetIndex)
      throws RpcException {
    MetaResponse found = meta.call(caller, MetaRequest.newBuilder().setGetChunkLocations(
        GetChunkLocationsOp.newBuilder().setInode(source).setFirstIndex(0).setCount(chunks)));
    List<ChunkLocation> held = found.getLocationsList();
    if (held.size() != chunks) {
      LOG.debug("inode {} has {} of its {} chunks in the map: not moved", source, held.size(),
          chunks);
      return false;
    }
    List<Linked> linked = new ArrayList<>();
    MoveChunksOp.Builder move = MoveChunksOp.newBuilder().setSource(source).setTarget(target)
        .setTargetIndex(targetIndex).setNowNs(NanoTimes.nowNs());
    for (int i = 0; i < chunks; i++) {
      ChunkLocation chunk = held.get(i);
      if (ChunkLocations.indexOf(chunk.getChunk()) != i || chunk.getCopying()) {
        unlink(linked);
        return false;
      }
      ChunkId to = ChunkId.newBuilder().setInode(target).setIndex(targetIndex + i).build();
      if (!linkEverywhere(chunk, to, linked)) {
        unlink(linked);
        return false;
      }
      move.addVersions(chunk.getVersion());
    }
    MetaResponse moved;
    try {
      moved = meta.call(caller, MetaRequest.newBuilder().setMoveChunks(move));
    } catch (RpcException e) {
      if (!refusedForSure(e.status())) {
        throw e; // applied or not: the target's names are left to the orphan collector
      }
      LOG.debug("move_chunks of inode {} into {} refused: {}", source, target, e.getMessage());
      unlink(linked);
      return false;
    }
    locations.forget(source);
    locations.forget(target);
    locations.remember(moved.getLocationsList());
    for (ChunkLocation chunk : held) {
      deleteOn(chunk.getReplicasList(), chunk.getChunk());
    }
    return true;
  }

  /** A name given on one replica: deleted again if the move does not happen. */
  private record Linked(String member, ChunkId chunk) {}

  private boolean linkEverywhere(ChunkLocation chunk, ChunkId to, List<Linked> linked) {
    DataRequest request = DataRequest.newBuilder().setLinkChunk(LinkChunkOp.newBuilder()
        .setSource(chunk.getChunk()).setTarget(to).setVersion(chunk.getVersion())).build();
    MemberView view = MemberView.of(transport);
    List<CompletableFuture<DataResponse>> replies = new ArrayList<>();
    for (String member : chunk.getReplicasList()) {
      try {
        replies.add(transport.dataAt(view.address(member), request));
      } catch (RpcException unknown) {
        // A replica this client cannot reach: the bytes are copied instead.
        replies.add(CompletableFuture.failedFuture(unknown));
      }
    }
    boolean all = true;
    for (int r = 0; r < replies.size(); r++) {
      try {
        Replies.ok(Replies.await(replies.get(r), timeout));
        linked.add(new Linked(chunk.getReplicas(r), to));
      } catch (RpcException e) {
        // EEXIST: a name of the target's own, never ours to delete. Anything else may have
        // made the name before failing: delete it with the rest (deleting none is harmless).
        if (e.status() != Status.EEXIST) {
          linked.add(new Linked(chunk.getReplicas(r), to));
        }
        LOG.debug("link of chunk {} on {} refused: {}", chunk.getChunk(), chunk.getReplicas(r),
            e.getMessage());
        all = false;
      }
    }
    return all;
  }

  private void unlink(List<Linked> linked) {
    for (Linked l : linked) {
      deleteOn(List.of(l.member()), l.chunk());
    }
  }

  /**
   * Deletes a chunk's name on members, best effort: a name left behind is not in the chunk map
   * (or not under this member), and the orphan collector deletes it.
   */
  private void deleteOn(List<String> members, ChunkId chunk) {
    DataRequest request = DataRequest.newBuilder()
        .setDeleteChunk(DeleteChunkOp.newBuilder().setChunk(chunk)).build();
    for (String member : members) {
      try {
        Replies.ok(Replies.await(
            transport.dataAt(MemberView.of(transport).address(member), request), timeout));
      } catch (RpcException e) {
        LOG.debug("chunk {} not deleted on {}: {}", chunk, member, e.getMessage());
      }
    }
  }

  /** Statuses move_chunks answers without having changed anything. */
  private static boolean refusedForSure(Status status) {
    return switch (status) {
      case ENOENT, EEXIST, EINVAL, EISDIR, EACCES, EPERM, EFBIG, STALE_VERSION -> true;
      default -> false;
    };
  }
}
