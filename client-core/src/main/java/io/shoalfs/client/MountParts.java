package io.shoalfs.client;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReleaseOrphanOp;
import io.shoalfs.rpc.RpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts one mount's operations share, built once in dependency order: the metadata and
 * data clients, the chunk map cache and chunked I/O, the handle table, path resolution,
 * write-behind, read-ahead and the rest. The operation groups of {@link MountFileSystem} hold
 * one of these; the few steps several groups take are here, written once.
 */
final class MountParts {
  private static final Logger LOG = LoggerFactory.getLogger(MountParts.class);

  final ShoalFuseConfig config;
  final MetaClient meta;
  final DataClient data;
  final ChunkLocations locations;
  final ChunkedIo io;
  final FileHandleTable handles = new FileHandleTable();
  final Resolver resolver;
  final Truncator truncator;
  final WriteCommitter committer;
  final WriteBehind writeBehind;
  final AccessNotes accessNotes;
  final ReaddirPlus readdirPlus = new ReaddirPlus();
  final HiddenFiles hidden = new HiddenFiles();
  final LockClient locks;
  final ReadAhead readAhead;
  final ShortCircuitReads shortCircuit;

  MountParts(ShoalTransport transport, ShoalFuseConfig config, long clientId) {
    this.config = config;
    this.meta = new MetaClient(transport, config.callTimeout(), clientId, config.attrCacheTtl(),
        config.pathCacheSize(), config.journal());
    this.data = new DataClient(transport, config.callTimeout());
    this.locations = new ChunkLocations(meta, ChunkLocations.DEFAULT_MAX_INODES);
    this.shortCircuit = ShortCircuitReads.forMount(config.shortCircuit());
    this.io = new ChunkedIo(transport, locations, config.chunkSize(), config.callTimeout(),
        ReplicaWriter.RETRY_WINDOW, shortCircuit);
    this.resolver = new Resolver(meta,
        new PathCache(config.pathCacheSize(), config.pathCacheTtl()), hidden);
    this.truncator = new Truncator(meta, data, locations, transport, handles, config.chunkSize());
    this.writeBehind = new WriteBehind(io, handles, config.writeBack());
    this.accessNotes = new AccessNotes(meta);
    this.committer = new WriteCommitter(meta, data, writeBehind, locations);
    this.locks = new LockClient(meta);
    this.readAhead = new ReadAhead(io, writeBehind, config.readAhead());
  }

  /**
   * The data of {@code inode} changed through this mount: read-ahead drops what it prefetched,
   * and an explicit mtime a handle holds is overtaken by the change.
   */
  void written(long inode) {
    readAhead.written(inode);
    handles.written(inode);
  }

  /** A journaled operation the servers refused since the last report fails this call (EIO). */
  void reportJournalFailure() throws RpcException {
    RpcException failure = meta.writeBack().takeFailure();
    if (failure != null) {
      throw failure;
    }
  }

  /** The last handle of an inode with no name left is closed: the servers may free it. */
  void releaseOrphan(Caller caller, long inode) throws RpcException {
    MetaResponse r = meta.call(caller, MetaRequest.newBuilder()
        .setReleaseOrphan(ReleaseOrphanOp.newBuilder().setInode(inode)));
    LOG.debug("closed orphan inode {} (freed: {})", inode, r.getFreedInode() != 0);
  }

  /** Stops the background work (write-behind, access notes, locks, short-circuit reads). */
  void close() {
    writeBehind.close();
    accessNotes.close();
    locks.close();
    shortCircuit.close();
    meta.closeSession();
  }
}
