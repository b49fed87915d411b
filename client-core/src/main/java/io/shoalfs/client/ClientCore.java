package io.shoalfs.client;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetXattrOp;
import io.shoalfs.proto.ListXattrOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.SetXattrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.UnlinkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The client core for front ends other than the FUSE mount (the S3 gateway): the same metadata
 * client, session, chunk map cache and chunked I/O the mount uses, behind a small public API
 * of inode-level calls. Metadata goes through the synchronous path: no capabilities, no
 * write-back journal and no attribute cache, so several gateways and mounts see each other's
 * changes at once. Every call runs as root (uid 0): a front end does its own authorisation.
 *
 * <p>Writes are not buffered here: {@link #write} sends the bytes to every replica of their
 * chunks before it returns, and {@link #commit} makes them durable and part of the file.
 */
public final class ClientCore implements AutoCloseable {
  private static final Caller ROOT = Caller.getDefaultInstance();
  private static final int DIRECTORY_MODE = 0755;
  private static final int FILE_MODE = 0644;

  /** A read of part of one chunk, in flight: see {@link #startRead} and {@link #finishRead}. */
  public static final class PendingRead {
    private final ReplicaReader.Attempt attempt;
    private final int length;

    private PendingRead(ReplicaReader.Attempt attempt, int length) {
      this.attempt = attempt;
      this.length = length;
    }
  }

  /** One page of a directory listing, in name (byte) order. */
  public record DirPage(List<DirEntry> entries, boolean hasMore) {}

  private final ShoalTransport transport;
  private final MetaClient meta;
  private final DataClient data;
  private final ChunkLocations locations;
  private final ChunkedIo io;
  private final ChunkMover mover;

  /** A core over {@code transport} (closed with this core), for files split by {@code chunkSize}. */
  ClientCore(ShoalTransport transport, long chunkSize, Duration timeout) {
    this.transport = transport;
    this.meta = new MetaClient(transport, timeout, MountSession.randomClientId());
    this.data = new DataClient(transport, timeout);
    this.locations = new ChunkLocations(meta, ChunkLocations.DEFAULT_MAX_INODES);
    this.io = new ChunkedIo(transport, locations, chunkSize, timeout);
    this.mover = new ChunkMover(transport, meta, locations, timeout);
  }

  /** A core that reaches the members {@code cluster} watches, split by its chunk size, its session opened. */
  public static ClientCore connect(ClusterConnection cluster) {
    ClientCore core = new ClientCore(cluster.transport(), cluster.settings().getChunkSize(),
        ClusterConnection.CALL_TIMEOUT);
    core.meta.startSession();
    return core;
  }

  public long chunkSize() {
    return io.chunkSize();
  }

  /** The attributes of whatever {@code path} ("/a/b") names now. */
  public Attr stat(String path) throws RpcException {
    return meta.resolve(ROOT, path, 0).getAttr();
  }

  /** The attributes of {@code name} in directory {@code parent}. */
  public Attr lookup(long parent, String name) throws RpcException {
    return meta.call(ROOT, MetaRequest.newBuilder()
        .setLookup(LookupOp.newBuilder().setParent(parent).setName(name))).getAttr();
  }

  public Attr makeDirectory(long parent, String name) throws RpcException {
    return makeNode(parent, name, FileType.DIRECTORY, DIRECTORY_MODE, false).getAttr();
  }

  /** A new empty regular file, its first chunk placed with it (it is about to be written). */
  public Attr createFile(long parent, String name) throws RpcException {
    MetaResponse made = makeNode(parent, name, FileType.REGULAR, FILE_MODE, true);
    locations.created(made.getAttr().getInode());
    locations.remember(made.getLocationsList());
    return made.getAttr();
  }

  /**
   * A new empty regular file with no chunk placed: one that gets its chunks moved in from other
   * files ({@link #appendByMovingChunks}) needs its first chunk index free.
   */
  public Attr createFileWithoutChunks(long parent, String name) throws RpcException {
    MetaResponse made = makeNode(parent, name, FileType.REGULAR, FILE_MODE, false);
    locations.created(made.getAttr().getInode());
    return made.getAttr();
  }

  private MetaResponse makeNode(long parent, String name, FileType type, int mode,
      boolean firstChunk) throws RpcException {
    MakeNodeOp.Builder op = MakeNodeOp.newBuilder()
        .setParent(parent)
        .setName(name)
        .setType(type)
        .setMode(mode)
        .setNowNs(NanoTimes.nowNs());
    if (firstChunk) {
      op.setFirstChunk(AllocateChunkOp.getDefaultInstance());
    }
    return meta.call(ROOT, MetaRequest.newBuilder().setMakeNode(op));
  }

  /**
   * Writes {@code data[0, length)} at {@code offset} of {@code inode} to all replicas, durable
   * on them before this returns if {@code sync}; the array may be reused once this returns.
   * Not part of the file until {@link #commit}.
   */
  public void write(long inode, long offset, byte[] data, int length, boolean sync)
      throws RpcException {
    io.write(inode, offset, data, length, sync);
  }

  /** Makes everything written to {@code inode} durable on the data nodes. */
  public void sync(long inode) throws RpcException {
    data.sync(inode, locations.cachedOf(inode));
  }

  /**
   * Records the file's end at {@code end} with modification time {@code nowNs} (the data
   * written up to there must be durable already); returns the file's attributes.
   */
  public Attr commit(long inode, long end, long nowNs) throws RpcException {
    return meta.call(ROOT, MetaRequest.newBuilder().setCommitWrite(CommitWriteOp.newBuilder()
        .setInode(inode).setEndOffset(end).setNowNs(nowNs))).getAttr();
  }

  /**
   * As {@link #commit}, and sets {@code xattrs} on the file, as one log entry (a journal of
   * steps applied in order) instead of one per step: a small object's publication is mostly
   * log entries. A step another mount's capability kept out (CAP_HELD) changed nothing: it is
   * sent again alone, after the steps before it, waiting for the recall as any call does.
   * Thrown: the first step that failed otherwise (xattrs after it may be set: the caller
   * discards the file).
   */
  public Attr commitWithXattrs(long inode, long end, long nowNs, Map<String, byte[]> xattrs)
      throws RpcException {
    List<MetaRequest.Builder> steps = new ArrayList<>();
    steps.add(MetaRequest.newBuilder().setCaller(ROOT).setCommitWrite(CommitWriteOp.newBuilder()
        .setInode(inode).setEndOffset(end).setNowNs(nowNs)));
    xattrs.forEach((name, value) -> steps.add(MetaRequest.newBuilder().setCaller(ROOT)
        .setSetXattr(SetXattrOp.newBuilder().setInode(inode).setName(name)
            .setValue(ByteString.copyFrom(value)).setNowNs(nowNs))));
    List<MetaResponse> answers = meta.journal(steps);
    Attr committed = null;
    for (int i = 0; i < steps.size(); i++) {
      MetaResponse answer = answers.get(i);
      if (answer.getStatus() == Status.CAP_HELD) {
        answer = meta.call(ROOT, steps.get(i).clearClientId().clearRequestSeq());
      }
      answer = Replies.ok(answer);
      if (i == 0) {
        committed = answer.getAttr();
      }
    }
    return committed;
  }

  /**
   * Appends all of file {@code source} ({@code sourceSize} bytes) to file {@code target}
   * ({@code targetSize} bytes, durable and committed) by moving its chunks into the target's
   * chunk map: no byte goes through this client. Only whole chunks move, to a chunk boundary:
   * both sizes must be whole numbers of chunks (false at once otherwise). True if the chunks
   * moved (the source is then empty); false if nothing changed and the bytes are to be copied
   * (see {@link ChunkMover}). The source must not be written meanwhile.
   */
  public boolean appendByMovingChunks(long source, long sourceSize, long target, long targetSize)
      throws RpcException {
    long chunk = io.chunkSize();
    if (sourceSize <= 0 || sourceSize % chunk != 0 || targetSize % chunk != 0
        || sourceSize / chunk > Integer.MAX_VALUE || targetSize / chunk > Integer.MAX_VALUE) {
      return false;
    }
    return mover.append(ROOT, source, (int) (sourceSize / chunk), target, (int) (targetSize / chunk));
  }

  /**
   * Drops what this core knows of where {@code inode}'s chunks are: a file about to be read
   * may have been rewritten elsewhere since (close-to-open, as a mount's open does).
   */
  public void forgetLocations(long inode) {
    locations.forget(inode);
  }

  /**
   * Starts reading {@code [offset, offset + length)} of {@code inode}, a range inside one
   * chunk; several may be in flight at once.
   */
  public PendingRead startRead(long inode, long offset, int length) throws RpcException {
    return new PendingRead(io.startPiece(inode, offset, length), length);
  }

  /**
   * The bytes of a read: {@code length} of them, a hole (a chunk never written, or written
   * short) reading as zeros. The caller asks only for bytes inside the file.
   */
  public ByteString finishRead(PendingRead read) throws RpcException {
    ByteString bytes = io.finishPiece(read.attempt);
    if (bytes.size() >= read.length) {
      return bytes.size() == read.length ? bytes : bytes.substring(0, read.length);
    }
    return bytes.concat(ByteString.copyFrom(new byte[read.length - bytes.size()]));
  }

  /** Renames atomically, replacing a file at the destination. */
  public void rename(long srcParent, String srcName, long dstParent, String dstName)
      throws RpcException {
    meta.call(ROOT, MetaRequest.newBuilder().setRename(RenameOp.newBuilder()
        .setSrcParent(srcParent).setSrcName(srcName)
        .setDstParent(dstParent).setDstName(dstName)
        .setNowNs(NanoTimes.nowNs())));
  }

  public void unlink(long parent, String name) throws RpcException {
    meta.call(ROOT, MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder()
        .setParent(parent).setName(name).setNowNs(NanoTimes.nowNs())));
  }

  public void rmdir(long parent, String name) throws RpcException {
    meta.call(ROOT, MetaRequest.newBuilder().setRmdir(RmdirOp.newBuilder()
        .setParent(parent).setName(name).setNowNs(NanoTimes.nowNs())));
  }

  /** Up to {@code limit} entries of {@code dir} after {@code startAfter} ("" = from the start). */
  public DirPage readDir(long dir, String startAfter, int limit, boolean withAttrs)
      throws RpcException {
    MetaResponse page = meta.call(ROOT, MetaRequest.newBuilder().setReadDir(ReadDirOp.newBuilder()
        .setInode(dir).setStartAfter(startAfter).setLimit(limit).setWithAttrs(withAttrs)));
    return new DirPage(page.getEntriesList(), page.getHasMore());
  }

  /** The value of xattr {@code name}, empty when the inode has no such xattr. */
  public Optional<byte[]> getXattr(long inode, String name) throws RpcException {
    try {
      return Optional.of(meta.call(ROOT, MetaRequest.newBuilder().setGetXattr(
          GetXattrOp.newBuilder().setInode(inode).setName(name))).getValue().toByteArray());
    } catch (RpcException e) {
      if (e.status() == Status.ENODATA) {
        return Optional.empty();
      }
      throw e;
    }
  }

  public void setXattr(long inode, String name, byte[] value) throws RpcException {
    meta.call(ROOT, MetaRequest.newBuilder().setSetXattr(SetXattrOp.newBuilder()
        .setInode(inode).setName(name).setValue(ByteString.copyFrom(value))
        .setNowNs(NanoTimes.nowNs())));
  }

  public List<String> listXattrs(long inode) throws RpcException {
    return meta.call(ROOT, MetaRequest.newBuilder().setListXattr(
        ListXattrOp.newBuilder().setInode(inode))).getNamesList();
  }

  /** Ends the session on the servers and closes the connections. */
  @Override
  public void close() {
    meta.closeSession();
    transport.close();
  }
}
