package io.shoalfs.server.meta;

import io.shoalfs.proto.AddReplicaOp;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.FenceChunkOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReportReplicaFailureOp;
import io.shoalfs.proto.Status;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The chunk map mutations. Everything they decide comes from the op (the proposer filled in
 * candidates, live members and the replication factor) and the stored map, so every replica
 * applying the same log ends with the same bytes. Each checks before it writes.
 *
 * <p>The version is what keeps a stale copy from ever being served: whenever a replica leaves
 * the chain while the others may go on taking writes, the version is bumped, and the writers
 * carry the new version to the replicas that remain. A replica joins only through the
 * healer's fence ({@link #fence}, then {@link #addReplica}), which bumps it too.
 */
final class ChunkMapWrites extends ChunkMap {

  private final KvBatch batch;

  ChunkMapWrites(KvBatch batch) {
    super(batch);
    this.batch = batch;
  }

  /**
   * Creates an absent chunk at version 1 on the first {@code replication} candidates, or
   * drops the replicas of a present one that are not live (bumping the version). Refuses with
   * UNAVAILABLE when fewer than min_replicas would hold the chunk.
   */
  MetaResponse allocate(AllocateChunkOp op) {
    ChunkId chunk = op.getChunk();
    if (chunk.getInode() == 0) {
      return Replies.fail(Status.EINVAL, "inode 0 has no chunks");
    }
    // Defensive floor: a chunk always has at least one replica, whatever the proposer sent.
    int replication = Math.max(1, op.getReplication());
    int minReplicas = Math.max(1, Math.min(op.getMinReplicas(), replication));
    ChunkLocation current = location(chunk);
    if (current == null) {
      List<String> chosen = op.getCandidatesList().stream()
          .filter(id -> !id.isEmpty())
          .distinct()
          .limit(replication)
          .toList();
      if (chosen.size() < minReplicas) {
        return Replies.fail(Status.UNAVAILABLE, "chunk " + describe(chunk) + " needs "
            + minReplicas + " replicas, " + chosen.size() + " candidates are live");
      }
      ChunkLocation created = ChunkLocation.newBuilder()
          .setChunk(chunk)
          .setVersion(1)
          .addAllReplicas(chosen)
          .build();
      put(created);
      addToCount(1);
      return located(Status.OK, created);
    }
    Set<String> live = new HashSet<>(op.getLiveList());
    List<String> kept = current.getReplicasList().stream().filter(live::contains).toList();
    if (kept.size() == current.getReplicasCount()) {
      return located(Status.OK, current);
    }
    if (kept.size() < minReplicas) {
      return Replies.fail(Status.UNAVAILABLE, "chunk " + describe(chunk) + " would keep "
          + kept.size() + " live replicas of " + current.getReplicasList() + ", needs " + minReplicas);
    }
    return located(Status.OK, replace(current, kept));
  }

  /**
   * A new file's chunk placed by the mount itself (AllocateChunkOp.placed, from its journal):
   * created at version 1 on exactly those members, in that chain order. EEXIST if the chunk
   * exists (the mount places only chunks of files it just made); the inode must be a live
   * regular file, so a placement journaled after its file's unlink leaves nothing behind.
   */
  MetaResponse place(AllocateChunkOp op) {
    ChunkId chunk = op.getChunk();
    List<String> placed = op.getPlacedList();
    if (placed.isEmpty() || placed.stream().anyMatch(String::isEmpty)
        || placed.stream().distinct().count() != placed.size()) {
      return Replies.fail(Status.EINVAL, "chunk " + describe(chunk)
          + " placed on " + placed + ": distinct member ids needed");
    }
    if (location(chunk) != null) {
      return Replies.fail(Status.EEXIST, "chunk " + describe(chunk) + " exists");
    }
    Attr file = new InodeReader(kv).attr(chunk.getInode());
    if (file == null) {
      return Replies.fail(Status.ENOENT, "no inode " + chunk.getInode());
    }
    if (file.getType() != FileType.REGULAR) {
      return Replies.fail(file.getType() == FileType.DIRECTORY ? Status.EISDIR : Status.EINVAL,
          "chunks belong to regular files only");
    }
    ChunkLocation created = ChunkLocation.newBuilder()
        .setChunk(chunk)
        .setVersion(1)
        .addAllReplicas(placed)
        .build();
    put(created);
    addToCount(1);
    return located(Status.OK, created);
  }

  /**
   * Drops a member that failed the chunk at its current version and bumps the version. A
   * report about another version, about a member that is no longer a replica, or about the
   * last replica changes nothing: the answer is the current location.
   */
  MetaResponse reportReplicaFailure(ReportReplicaFailureOp op) {
    if (op.getMember().isEmpty()) {
      return Replies.fail(Status.EINVAL, "report_replica_failure needs the member");
    }
    ChunkLocation current = location(op.getChunk());
    if (current == null) {
      return Replies.fail(Status.ENOENT, "no chunk " + describe(op.getChunk()));
    }
    if (op.getVersion() != current.getVersion()
        || !current.getReplicasList().contains(op.getMember())
        || current.getReplicasCount() <= 1) {
      return located(Status.OK, current);
    }
    List<String> kept = new ArrayList<>(current.getReplicasList());
    kept.remove(op.getMember());
    return located(Status.OK, replace(current, kept));
  }

  /**
   * Adds a member that now holds a full copy made inside the fence at the current version (the
   * end of the chain: the healer's copy joins behind the replicas already serving), bumps the
   * version and lifts the fence. STALE_VERSION, with the current location, if the version moved
   * on while the copy was made or the chunk is not fenced: only a fenced copy is known to have
   * every write (see {@link #fence}).
   */
  MetaResponse addReplica(AddReplicaOp op) {
    if (op.getMember().isEmpty()) {
      return Replies.fail(Status.EINVAL, "add_replica needs the member");
    }
    ChunkLocation current = location(op.getChunk());
    if (current == null) {
      return Replies.fail(Status.ENOENT, "no chunk " + describe(op.getChunk()));
    }
    if (current.getReplicasList().contains(op.getMember())) {
      return located(Status.OK, current);
    }
    if (op.getVersion() != current.getVersion() || !current.getCopying()) {
      return stale(current, "chunk " + describe(op.getChunk()) + " is at version "
          + current.getVersion() + (current.getCopying() ? " (copying)" : " (not copying)")
          + ", the copy was made at " + op.getVersion());
    }
    List<String> replicas = new ArrayList<>(current.getReplicasList());
    replicas.add(op.getMember());
    return located(Status.OK, replace(current, replicas));
  }

  /**
   * The healer's fence around a copy. Writes do not change the version, so a copy cannot
   * tell afterwards whether a write landed on its source behind the piece it had read; instead
   * no write may land while it is made. Fencing bumps the version and marks the chunk copying:
   * the copy stamps that version on its source before reading it (so a writer with an older
   * location is refused there, STALE_VERSION, and every write the source took before is in the
   * copy), and writers that ask the map again wait while it says copying. add_replica at the
   * fenced version then records a copy that has every acknowledged write; any other change of
   * the chunk meanwhile (a replica dropped, the fence lifted) moves the version on and the copy
   * is never added. Lifting (fence = false) ends a copy that was given up.
   */
  MetaResponse fence(FenceChunkOp op) {
    ChunkLocation current = location(op.getChunk());
    if (current == null) {
      return Replies.fail(Status.ENOENT, "no chunk " + describe(op.getChunk()));
    }
    if (op.getFence() && kv.get(KeySchema.garbage(op.getChunk().getInode())) != null) {
      // The file is deleted and its copies are being reaped by the holders its garbage record
      // names: a new copy would be one more for nobody to delete.
      return Replies.fail(Status.ENOENT, "chunk " + describe(op.getChunk())
          + " belongs to a deleted file: not copied");
    }
    if (op.getVersion() != current.getVersion() || op.getFence() == current.getCopying()) {
      return stale(current, "chunk " + describe(op.getChunk()) + " is at version "
          + current.getVersion() + (current.getCopying() ? " (copying)" : " (not copying)")
          + ", asked to " + (op.getFence() ? "fence" : "lift") + " version " + op.getVersion());
    }
    ChunkLocation next = current.toBuilder()
        .setVersion(current.getVersion() + 1)
        .setCopying(op.getFence())
        .build();
    put(next);
    return located(Status.OK, next);
  }

  /**
   * Files {@code location}'s chunk under {@code to} instead, at the same version and on the
   * same replicas (not copying: a fence on the old name ends with it). The count is unchanged.
   * The caller has checked that {@code to} has no chunk.
   */
  ChunkLocation move(ChunkLocation location, ChunkId to) {
    ChunkId from = location.getChunk();
    batch.delete(KeySchema.chunk(from.getInode(), from.getIndex()));
    ChunkLocation moved = location.toBuilder().setChunk(to).setCopying(false).build();
    put(moved);
    return moved;
  }

  /** Forgets every chunk of these inodes (their data is gone from every data node). */
  void forget(List<Long> inodes) {
    for (long ino : inodes) {
      byte[] prefix = KeySchema.chunkPrefix(ino);
      List<byte[]> keys = new ArrayList<>();
      kv.scan(prefix, prefix, (key, value) -> keys.add(key));
      keys.forEach(batch::delete);
      addToCount(-keys.size());
    }
  }

  /**
   * The location with {@code replicas} instead, one version on, not copying: a copy fenced at
   * the old version is never added (its add_replica finds another version).
   */
  private ChunkLocation replace(ChunkLocation current, List<String> replicas) {
    ChunkLocation next = current.toBuilder()
        .clearReplicas()
        .addAllReplicas(replicas)
        .setVersion(current.getVersion() + 1)
        .setCopying(false)
        .build();
    put(next);
    return next;
  }

  private void put(ChunkLocation location) {
    ChunkId chunk = location.getChunk();
    batch.put(KeySchema.chunk(chunk.getInode(), chunk.getIndex()), location.toByteArray());
  }

  private void addToCount(long delta) {
    if (delta != 0) {
      batch.put(KeySchema.CHUNK_COUNT, KeySchema.u64(count() + delta));
    }
  }

  private static MetaResponse stale(ChunkLocation current, String why) {
    return located(Status.STALE_VERSION, current).toBuilder().setError(why).build();
  }

  private static MetaResponse located(Status status, ChunkLocation location) {
    return MetaResponse.newBuilder().setStatus(status).addLocations(location).build();
  }

  private static String describe(ChunkId chunk) {
    return chunk.getInode() + "/" + Integer.toUnsignedString(chunk.getIndex());
  }
}
