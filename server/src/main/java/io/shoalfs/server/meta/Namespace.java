package io.shoalfs.server.meta;

import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ExpireSessionsOp;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;

/**
 * The POSIX namespace, the chunk map ({@link ChunkMap}), mount sessions and their directory
 * capabilities: every rule about names, links, attributes, who may touch a directory and
 * where file data lives is behind this class, executed against an
 * {@link OrderedKv} batch. Deterministic: the same requests applied to the same store produce
 * the same bytes on every replica. Failures are statuses, never exceptions
 * (a {@link KvException} means the storage itself broke).
 */
public final class Namespace {

  private final Permissions permissions;

  public Namespace(Permissions permissions) {
    this.permissions = permissions;
  }

  public Namespace() {
    this(Permissions.NOT_ENFORCED);
  }

  /**
   * Whether a mount's journal may carry {@code request}: the namespace mutations, and the
   * placement of a new file's chunk the mount chose itself (allocate_chunk with placed).
   */
  static boolean isJournaled(MetaRequest request) {
    return switch (request.getOpCase()) {
      case MAKE_NODE, SYMLINK, LINK, UNLINK, RMDIR, RENAME, SET_ATTR, COMMIT_WRITE, SET_XATTR,
          REMOVE_XATTR, RELEASE_ORPHAN -> true;
      case ALLOCATE_CHUNK -> request.getAllocateChunk().getPlacedCount() > 0;
      default -> false;
    };
  }

  /** True for the operations that only read: they are answered without the Raft log. */
  public static boolean isReadOnly(MetaRequest request) {
    return switch (request.getOpCase()) {
      case LOOKUP, GET_ATTR, RESOLVE, READ_DIR, READ_LINK, GET_XATTR, LIST_XATTR, LIST_GARBAGE,
          NAMESPACE_STATS, GET_CHUNK_LOCATIONS, LIST_CHUNKS, CHECK_REPLICAS, GET_LOCK -> true;
      default -> false;
    };
  }

  /**
   * Writes the root directory and the counters into {@code batch} if the store is empty.
   * Returns true if it did (the caller commits).
   */
  public static boolean bootstrap(KvBatch batch) {
    InodeWriter store = new InodeWriter(batch);
    if (store.attr(KeySchema.ROOT_INODE) != null) {
      return false;
    }
    store.putAttr(Attr.newBuilder()
        .setInode(KeySchema.ROOT_INODE)
        .setType(FileType.DIRECTORY)
        .setMode(0755)
        .setNlink(2)
        .build());
    store.putParent(KeySchema.ROOT_INODE, KeySchema.ROOT_INODE);
    batch.put(KeySchema.NEXT_INODE, KeySchema.u64(KeySchema.ROOT_INODE + 1));
    batch.put(KeySchema.INODE_COUNT, KeySchema.u64(1));
    return true;
  }

  /**
   * Answers a read-only request from {@code kv}; a mutation is refused with EINVAL. A read of
   * a directory another session holds the capability of is answered CAP_HELD.
   */
  public MetaResponse read(MetaRequest request, KvReader kv) {
    NamespaceReads reads = new NamespaceReads(new InodeReader(kv),
        CapabilityGate.of(request.getClientId(), kv));
    ChunkMap chunks = new ChunkMap(kv);
    return switch (request.getOpCase()) {
      case LOOKUP -> reads.lookup(request.getLookup());
      case GET_ATTR -> reads.getAttr(request.getGetAttr().getInode());
      case RESOLVE -> withChunks(reads.resolve(request.getResolve()),
          request.getResolve().getChunkLookahead(), chunks);
      case READ_DIR -> reads.readDir(request.getReadDir());
      case READ_LINK -> reads.readLink(request.getReadLink().getInode());
      case GET_XATTR -> reads.getXattr(request.getGetXattr());
      case LIST_XATTR -> reads.listXattr(request.getListXattr().getInode());
      case LIST_GARBAGE -> reads.listGarbage(request.getListGarbage());
      case NAMESPACE_STATS -> reads.namespaceStats(chunks.count());
      case GET_CHUNK_LOCATIONS -> chunks.getChunkLocations(request.getGetChunkLocations());
      case LIST_CHUNKS -> chunks.listChunks(request.getListChunks());
      case CHECK_REPLICAS -> chunks.checkReplicas(request.getCheckReplicas());
      case GET_LOCK -> new Locks(kv).get(request.getGetLock());
      case OP_NOT_SET -> Replies.fail(Status.BAD_REQUEST, "request has no op");
      default -> Replies.fail(Status.EINVAL, request.getOpCase() + " is not a read");
    };
  }

  /** A resolve's answer with where the first {@code lookahead} chunks of a regular file live. */
  private static MetaResponse withChunks(MetaResponse resolved, int lookahead, ChunkMap chunks) {
    if (lookahead <= 0 || resolved.getStatus() != Status.OK
        || resolved.getAttr().getType() != FileType.REGULAR) {
      return resolved;
    }
    MetaResponse located = chunks.getChunkLocations(GetChunkLocationsOp.newBuilder()
        .setInode(resolved.getAttr().getInode())
        .setFirstIndex(0)
        .setCount(lookahead)
        .build());
    return resolved.toBuilder().addAllLocations(located.getLocationsList()).build();
  }

  /**
   * Applies any request to {@code batch}, which may already hold other requests' writes (a
   * group-committed entry). When the answer is not OK the batch holds none of this request's
   * writes, and the others' are untouched. A request that touches a directory another
   * session holds the capability of is answered CAP_HELD (see {@link CapabilityGate}).
   */
  public MetaResponse apply(MetaRequest request, KvBatch batch) {
    return apply(request, batch, false);
  }

  /**
   * Applies one op of a mount's journal (its client id is the journal's): as {@link #apply},
   * and a chunk placed by the mount (allocate_chunk with placed) is taken from it.
   */
  MetaResponse applyJournaled(MetaRequest op, KvBatch batch) {
    return apply(op, batch, true);
  }

  private MetaResponse apply(MetaRequest request, KvBatch batch, boolean journaled) {
    if (isReadOnly(request) || request.getOpCase() == MetaRequest.OpCase.OP_NOT_SET) {
      return read(request, batch);
    }
    batch.mark();
    InodeWriter store = new InodeWriter(batch);
    long client = request.getClientId();
    InodeLeases leases = new InodeLeases(store, batch);
    NamespaceWrites writes = new NamespaceWrites(store, permissions,
        CapabilityGate.of(client, batch), leases);
    ChunkMapWrites chunks = new ChunkMapWrites(batch);
    CapabilityOps capabilities = new CapabilityOps(batch);
    var caller = request.getCaller();
    MetaResponse response = switch (request.getOpCase()) {
      case MAKE_NODE -> takeCapability(client, request.getMakeNode(), capabilities,
          placeFirstChunk(writes.makeNode(caller, request.getMakeNode(), client),
              request.getMakeNode(), chunks));
      case SYMLINK -> writes.symlink(caller, request.getSymlink(), client);
      case LINK -> writes.link(caller, request.getLink());
      case UNLINK -> writes.unlink(caller, request.getUnlink(), request.getClientId());
      case RELEASE_ORPHAN ->
          writes.releaseOrphan(request.getClientId(), request.getReleaseOrphan(), batch);
      case RMDIR -> writes.rmdir(caller, request.getRmdir());
      case RENAME ->
          new Rename(store, writes).rename(caller, request.getRename(), request.getClientId());
      case SET_ATTR -> writes.setAttr(caller, request.getSetAttr());
      case COMMIT_WRITE -> writes.commitWrite(request.getCommitWrite());
      case APPEND -> writes.append(request.getAppend());
      case SET_LOCK -> new Locks(batch).set(request.getClientId(), request.getSetLock(), batch);
      case KEEP_ALIVE -> capabilities.withRecalledDirs(
          new Locks(batch).keepAlive(client, request.getKeepAlive(), batch), client);
      case OPEN_SESSION -> openSession(request, batch);
      case CLOSE_SESSION -> closeSession(request.getClientId(), writes, batch);
      case EXPIRE_SESSIONS -> expireSessions(request, writes, batch);
      case SET_XATTR -> writes.setXattr(caller, request.getSetXattr());
      case REMOVE_XATTR -> writes.removeXattr(caller, request.getRemoveXattr());
      case PURGE -> writes.purge(request.getPurge(), chunks);
      case ALLOCATE_CHUNK -> allocateChunk(request.getAllocateChunk(), journaled, chunks);
      case ACQUIRE_CAPABILITY -> capabilities.acquire(client, request.getAcquireCapability());
      case RELEASE_CAPABILITY -> capabilities.release(client, request.getReleaseCapability());
      case RECALL_CAPABILITY -> capabilities.recall(client, request.getRecallCapability());
      case LEASE_INODES -> leases.lease(client, request.getLeaseInodes());
      case REPORT_REPLICA_FAILURE -> chunks.reportReplicaFailure(request.getReportReplicaFailure());
      case ADD_REPLICA -> chunks.addReplica(request.getAddReplica());
      case FENCE_CHUNK -> chunks.fence(request.getFenceChunk());
      case MOVE_CHUNKS -> new ChunkMoves(store, permissions, chunks)
          .move(caller, request.getMoveChunks());
      default -> Replies.fail(Status.UNKNOWN_TYPE, "unknown op " + request.getOpCase());
    };
    if (response.getStatus() != Status.OK) {
      batch.rollbackToMark(); // belt and braces: every op checks before it writes
      return response;
    }
    batch.releaseMark();
    return withChanges(response, store);
  }

  /**
   * A mount places its new files' chunks itself only in its journal, where the file's create
   * comes first; anywhere else allocate_chunk places by the proposer's view of the members.
   */
  private static MetaResponse allocateChunk(AllocateChunkOp op, boolean journaled,
      ChunkMapWrites chunks) {
    if (op.getPlacedCount() == 0) {
      return chunks.allocate(op);
    }
    return journaled
        ? chunks.place(op)
        : Replies.fail(Status.BAD_REQUEST, "a chunk placed by the mount comes in its journal");
  }

  /**
   * A directory made with take_capability starts out held by the maker's session: nobody else
   * can have looked into it yet. Without a session (a server's request) there is no holder.
   */
  private static MetaResponse takeCapability(long client, MakeNodeOp op,
      CapabilityOps capabilities, MetaResponse made) {
    if (made.getStatus() != Status.OK || !op.getTakeCapability()
        || op.getType() != FileType.DIRECTORY || client == 0) {
      return made;
    }
    capabilities.grantNew(client, made.getAttr().getInode());
    return made.toBuilder().setCapabilityGranted(true).build();
  }

  /**
   * A regular file created with first_chunk set gets chunk 0 placed in the same entry (see
   * MakeNodeOp.first_chunk). Placement refused (too few live members) leaves the create as it
   * is: allocate writes nothing before its checks pass, and the first write allocates later.
   */
  private static MetaResponse placeFirstChunk(MetaResponse made, MakeNodeOp op,
      ChunkMapWrites chunks) {
    if (made.getStatus() != Status.OK || !op.hasFirstChunk()
        || op.getType() != FileType.REGULAR) {
      return made;
    }
    MetaResponse placed = chunks.allocate(op.getFirstChunk().toBuilder()
        .setChunk(ChunkId.newBuilder().setInode(made.getAttr().getInode()).setIndex(0))
        .build());
    return placed.getStatus() == Status.OK
        ? made.toBuilder().addAllLocations(placed.getLocationsList()).build()
        : made;
  }

  private static MetaResponse openSession(MetaRequest request, KvBatch batch) {
    if (request.getClientId() == 0) {
      return Replies.fail(Status.EINVAL, "a session needs a client id");
    }
    new Sessions(batch).seenAt(request.getClientId(), request.getOpenSession().getNowNs(), batch);
    return Replies.ok();
  }

  private static MetaResponse closeSession(long clientId, NamespaceWrites writes, KvBatch batch) {
    new Sessions(batch).end(clientId, writes, batch);
    return Replies.ok();
  }

  /** The leader's expiry of silent mounts (see SessionReaper); never a client's to send. */
  private static MetaResponse expireSessions(MetaRequest request, NamespaceWrites writes,
      KvBatch batch) {
    if (request.getClientId() != 0) {
      return Replies.fail(Status.EPERM, "sessions are expired by the metadata leader only");
    }
    ExpireSessionsOp op = request.getExpireSessions();
    Sessions sessions = new Sessions(batch);
    for (long client : sessions.seenBefore(op.getSeenBefore(), Math.max(1, op.getLimit()))) {
      sessions.end(client, writes, batch);
    }
    return Replies.ok();
  }

  /**
   * The answer with every attribute the op wrote besides its own {@code attr}, and every
   * inode it freed, marked complete (see MetaResponse.changes_listed).
   */
  static MetaResponse withChanges(MetaResponse response, InodeWriter store) {
    MetaResponse.Builder b = response.toBuilder().setChangesListed(true);
    long own = response.hasAttr() ? response.getAttr().getInode() : 0;
    for (Attr attr : store.writtenAttrs()) {
      if (attr.getInode() != own) {
        b.addChanged(attr);
      }
    }
    b.addAllFreed(store.freedInodes());
    return b.build();
  }
}
