package io.shoalfs.client;

import io.shoalfs.proto.AcquireCapabilityOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.Caller;
import com.github.benmanes.caffeine.cache.Ticker;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.GetXattrOp;
import io.shoalfs.proto.JournalOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaRequest.OpCase;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.ResolveOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import io.shoalfs.client.writeback.JournalSettings;
import io.shoalfs.client.writeback.WriteBack;
import io.shoalfs.proto.LeaseInodesOp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Sends metadata requests for one mount: stamps the caller's credentials on every request and
 * the mount's session ({@link MountSession}: its client id plus a fresh sequence number) on
 * every mutation, so that the state machine can answer a retried mutation from its reply table
 * instead of applying it twice.
 *
 * <p>It also keeps the mount's {@link AttrCache} true to what this mount did: every answer that
 * carries attributes is remembered, and a mutation forgets what it may have changed. Answers
 * to overlapping calls can arrive in either order; the log index each carries decides which
 * one the cache keeps.
 */
final class MetaClient implements WriteBack.Service {
  private final ShoalTransport transport;
  private final Duration timeout;
  private final MountSession session;
  private final AttrCache attrs;
  /** Xattr values by "inode/name"; {@link #NO_XATTR} for one that does not exist. */
  private final GuardedCache<String, byte[]> xattrs;
  /** The namespace work done here under capabilities, and its journal. */
  private final WriteBack writeBack;

  private static final byte[] NO_XATTR = new byte[0];
  /** Entries asked for at a time when a directory is taken with its listing. */
  private static final int LIST_PAGE = 1000;

  /** Without caching (every getattr and getxattr asks the cluster). */
  MetaClient(ShoalTransport transport, Duration timeout, long clientId) {
    this(transport, timeout, clientId, Duration.ZERO, 1, JournalSettings.off());
  }

  /** Attributes and xattrs cached for {@code cacheTtl}, at most {@code cacheSize} of each. */
  MetaClient(ShoalTransport transport, Duration timeout, long clientId, Duration cacheTtl,
      long cacheSize) {
    this(transport, timeout, clientId, cacheTtl, cacheSize, JournalSettings.off());
  }

  /** As above, with metadata write-back under capabilities as {@code journal} says. */
  MetaClient(ShoalTransport transport, Duration timeout, long clientId, Duration cacheTtl,
      long cacheSize, JournalSettings journal) {
    this.transport = transport;
    this.timeout = timeout;
    this.session = new MountSession(transport, timeout, clientId);
    this.attrs = new AttrCache(cacheSize, cacheTtl);
    this.xattrs = new GuardedCache<>(cacheSize, cacheTtl, Ticker.systemTicker());
    this.writeBack = new WriteBack(this, transport::members, journal);
    session.onEvents(new MountSession.Events() {
      @Override
      public void ended() {
        writeBack.sessionEnded();
      }

      @Override
      public void recalled(List<Long> dirs) {
        writeBack.recalled(dirs);
      }
    });
    transport.onRecall(recall -> {
      if (recall.getClientId() == session.id()) {
        writeBack.recalled(recall.getDirsList());
      }
    });
  }

  WriteBack writeBack() {
    return writeBack;
  }

  /** This mount's session id now (a session the servers ended is replaced by a new one). */
  long clientId() {
    return session.id();
  }

  /** Opens this mount's session on the servers, and keeps it alive until {@link #closeSession}. */
  void startSession() {
    session.start();
    writeBack.sessionStarted();
  }

  /** Sends this mount's journal and ends its session on the servers. */
  void closeSession() {
    writeBack.close();
    session.close();
  }

  /**
   * A namespace mutation in the directory at {@code parentPath} (and, for a rename, the one at
   * {@code dstParentPath}): sent as {@link #call} sends it, after taking the capability of
   * those directories when this mount works there alone (see WriteBack.takeCapabilities).
   */
  MetaResponse mutateIn(Caller caller, String parentPath, String dstParentPath,
      MetaRequest.Builder request) throws RpcException {
    writeBack.takeCapabilities(request, parentPath, dstParentPath);
    return call(caller, request);
  }

  /** Sends the request and returns the answer; any status but OK is thrown. */
  MetaResponse call(Caller caller, MetaRequest.Builder request) throws RpcException {
    request.setCaller(caller);
    MetaResponse local;
    do {
      local = writeBack.local(request);
      if (local != null) {
        return local;
      }
    } while (!writeBack.beforeRemote(request));
    try {
      return remote(request);
    } finally {
      writeBack.afterRemote(request);
    }
  }

  private MetaResponse remote(MetaRequest.Builder request) throws RpcException {
    if (!isMutation(request.getOpCase())) {
      MetaResponse r = read(request);
      if (r.hasAttr()) {
        attrs.put(r.getAttr(), r.getAppliedIndex());
      }
      return r;
    }
    session.stamp(request);
    if (!changesAttributes(request.getOpCase())) {
      return Replies.ok(send(request));
    }
    MetaResponse r = null;
    try {
      r = send(request);
    } finally {
      remember(request, r);
    }
    return Replies.ok(r);
  }

  /**
   * A read, straight to the servers. Reads carry the session too (no sequence number: they are
   * never replayed), so that a directory another mount holds is recalled before this one reads
   * it.
   */
  private MetaResponse read(MetaRequest.Builder request) throws RpcException {
    request.setClientId(session.id());
    return Replies.ok(Replies.await(transport.meta(request.build()), timeout));
  }

  /**
   * Sends namespace mutations (each with its caller) as one journal: one request, one log entry
   * on the servers, applied in order. Returns each op's answer in order, a refused op's
   * included (not thrown); a journal that failed as a whole is thrown.
   */
  List<MetaResponse> journal(List<MetaRequest.Builder> ops) throws RpcException {
    // Those about held state are answered here (and journaled with the rest of it).
    MetaResponse[] answers = new MetaResponse[ops.size()];
    List<MetaRequest.Builder> remote = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      do {
        answers[i] = writeBack.local(ops.get(i));
      } while (answers[i] == null && !writeBack.beforeRemote(ops.get(i)));
      if (answers[i] == null) {
        remote.add(ops.get(i));
      }
    }
    if (!remote.isEmpty()) {
      List<MetaResponse> sent;
      try {
        sent = Replies.ok(sendJournal(remote, List.of(), List.of())).getBatchedList();
      } finally {
        remote.forEach(writeBack::afterRemote);
      }
      for (int i = 0, next = 0; i < answers.length; i++) {
        if (answers[i] == null) {
          answers[i] = sent.get(next++);
        }
      }
    }
    return List.of(answers);
  }

  /**
   * Sends {@code ops} as one journal, then gives back {@code release}; resent (same request,
   * applied once) while the group is between leaders. The answer as it came, each op's in
   * {@code batched}; thrown only when the journal as a whole failed.
   */
  @Override
  public MetaResponse sendJournal(List<MetaRequest.Builder> ops, Collection<Long> release,
      Collection<Long> releaseShared) throws RpcException {
    JournalOp.Builder journal = JournalOp.newBuilder().addAllRelease(release)
        .addAllReleaseShared(releaseShared);
    ops.forEach(journal::addOps);
    MetaRequest.Builder request = session.stamp(MetaRequest.newBuilder().setJournal(journal));
    MetaResponse r = null;
    try {
      r = sendResending(request);
    } finally {
      boolean answered = r != null && r.getStatus() == Status.OK
          && r.getBatchedCount() == ops.size();
      for (int i = 0; i < ops.size(); i++) {
        remember(ops.get(i), answered ? r.getBatched(i) : r);
      }
    }
    return Replies.ok(r);
  }

  @Override
  public MetaResponse acquireCapability(long dir, boolean shared) throws RpcException {
    return sendForSession(MetaRequest.newBuilder()
        .setAcquireCapability(AcquireCapabilityOp.newBuilder().setDir(dir).setShared(shared)));
  }

  @Override
  public List<DirEntry> listDirectory(long dir, int max) throws RpcException {
    List<DirEntry> entries = new ArrayList<>();
    String after = "";
    while (true) {
      MetaResponse page = read(MetaRequest.newBuilder()
          .setCaller(Caller.getDefaultInstance())
          .setReadDir(ReadDirOp.newBuilder().setInode(dir).setStartAfter(after)
              .setLimit(Math.min(max + 1, LIST_PAGE)).setWithAttrs(true)));
      for (DirEntry e : page.getEntriesList()) {
        if (e.hasAttr()) {
          attrs.put(e.getAttr(), page.getAppliedIndex());
        }
      }
      entries.addAll(page.getEntriesList());
      if (entries.size() > max) {
        return null;
      }
      if (!page.getHasMore() || page.getEntriesCount() == 0) {
        return entries;
      }
      after = page.getEntries(page.getEntriesCount() - 1).getName();
    }
  }

  @Override
  public MetaResponse leaseInodes(int count) throws RpcException {
    // A create may wait for this under the write-back's lock.
    return sendForSession(MetaRequest.newBuilder()
        .setLeaseInodes(LeaseInodesOp.newBuilder().setCount(count)));
  }

  /**
   * A mutation about the session's own rights, straight to the servers: nothing held is
   * concerned and nothing cached changes.
   */
  private MetaResponse sendForSession(MetaRequest.Builder op) throws RpcException {
    return Replies.ok(send(session.stamp(op.setCaller(Caller.getDefaultInstance()))));
  }

  /**
   * A journal is this mount's only copy of its work: one that met no leader (an election after
   * a crash, a quorum outage) is sent again, as the same request (applied once), with a growing
   * pause, for as long as a FUSE call may wait.
   */
  private MetaResponse sendResending(MetaRequest.Builder request) throws RpcException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMs = 50;
    while (true) {
      Status outcome;
      try {
        MetaResponse r = send(request);
        outcome = r.getStatus();
        if (!betweenLeaders(outcome) || System.nanoTime() > deadline) {
          return r;
        }
      } catch (RpcException e) {
        if (!betweenLeaders(e.status()) || System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(pauseMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RpcException(Status.UNAVAILABLE, "interrupted while resending a journal");
      }
      pauseMs = Math.min(1000, pauseMs * 2);
    }
  }

  private static boolean betweenLeaders(Status status) {
    return status == Status.UNAVAILABLE || status == Status.DEADLINE_EXCEEDED;
  }

  /** Keeps the cache true to a mutation and its answer ({@code r} null: none came). */
  private void remember(MetaRequest.Builder request, MetaResponse r) {
    forgetXattrsChangedBy(request);
    if (r != null && r.getStatus() == Status.OK && r.getChangesListed() && r.getAppliedIndex() > 0) {
      keepChanges(request, r);
    } else {
      // Forgotten even when the call failed: a mutation that timed out may still be applied.
      long at = r != null && r.getAppliedIndex() > 0 ? r.getAppliedIndex() : attrs.indexAfterNewestSeen();
      forgetChangedBy(request, at);
      if (r != null && r.getStatus() == Status.OK && r.hasAttr()) {
        attrs.put(r.getAttr(), at);
      }
    }
  }

  private MetaResponse send(MetaRequest.Builder request) throws RpcException {
    MetaRequest sent = request.build();
    MetaResponse answer = Replies.await(transport.meta(sent), timeout);
    session.answered(sent, answer);
    return answer;
  }

  /**
   * A mutation whose answer lists every attribute it changed: those are cached as of its
   * index, the inodes it freed forgotten, and nothing else is touched. Why it matters: every
   * create, unlink or rename changes its parent directory, and dropping the parent (or, for an
   * unlink, the whole cache) sent the next path walk through it back to the cluster.
   */
  private void keepChanges(MetaRequest.Builder request, MetaResponse r) {
    long at = r.getAppliedIndex();
    if (r.hasAttr()) {
      attrs.changedAt(r.getAttr(), at);
    }
    r.getChangedList().forEach(changed -> attrs.changedAt(changed, at));
    r.getFreedList().forEach(freed -> attrs.invalidate(freed, at));
    OpCase op = request.getOpCase();
    if ((op == OpCase.MAKE_NODE || op == OpCase.SYMLINK) && r.hasAttr()) {
      // A new inode has no xattrs: the kernel's security.capability query before the first
      // write is answered here.
      xattrs.put(noXattrsKey(r.getAttr().getInode()), NO_XATTR, xattrs.generation());
    }
  }

  /** Forgets the cached xattrs {@code request} may have changed, whatever its answer. */
  private void forgetXattrsChangedBy(MetaRequest.Builder request) {
    switch (request.getOpCase()) {
      case SET_XATTR -> forgetXattr(request.getSetXattr().getInode(), request.getSetXattr().getName());
      case REMOVE_XATTR ->
          forgetXattr(request.getRemoveXattr().getInode(), request.getRemoveXattr().getName());
      default -> { }
    }
  }

  private void forgetXattr(long inode, String name) {
    xattrs.invalidate(xattrKey(inode, name));
    xattrs.invalidate(noXattrsKey(inode));
  }

  /** Forgets the cached attributes {@code request}, applied at log index {@code at}, may have changed. */
  private void forgetChangedBy(MetaRequest.Builder request, long at) {
    switch (request.getOpCase()) {
      case MAKE_NODE -> attrs.invalidate(request.getMakeNode().getParent(), at);
      case SYMLINK -> attrs.invalidate(request.getSymlink().getParent(), at);
      case LINK -> {
        attrs.invalidate(request.getLink().getInode(), at);
        attrs.invalidate(request.getLink().getNewParent(), at);
      }
      case SET_ATTR -> attrs.invalidate(request.getSetAttr().getInode(), at);
      case COMMIT_WRITE -> attrs.invalidate(request.getCommitWrite().getInode(), at);
      case APPEND -> attrs.invalidate(request.getAppend().getInode(), at);
      case SET_XATTR -> attrs.invalidate(request.getSetXattr().getInode(), at);
      case REMOVE_XATTR -> attrs.invalidate(request.getRemoveXattr().getInode(), at);
      case PURGE -> request.getPurge().getInodesList().forEach(inode -> attrs.invalidate(inode, at));
      // The inode that lost a name (its nlink, its ctime) is not in the request.
      default -> attrs.invalidateAll(at);
    }
  }

  /** The attributes of {@code inode} as the cluster has them now (and cached for later). */
  Attr getAttr(Caller caller, long inode) throws RpcException {
    return call(caller, MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(inode)))
        .getAttr();
  }

  /** The attributes of {@code inode} from the cache when they are fresh enough, else asked. */
  Attr cachedAttr(Caller caller, long inode) throws RpcException {
    MetaResponse local = writeBack.local(MetaRequest.newBuilder().setCaller(caller)
        .setGetAttr(GetAttrOp.newBuilder().setInode(inode)));
    if (local != null) {
      return local.getAttr();
    }
    writeBack.awaitRelease();
    Attr cached = attrs.get(inode);
    return cached != null ? cached : getAttr(caller, inode);
  }

  /**
   * The value of xattr {@code name} of {@code inode}, cached like attributes, absence (ENODATA)
   * included: the kernel asks for security.capability before every write.
   */
  byte[] getXattr(Caller caller, long inode, String name) throws RpcException {
    String key = xattrKey(inode, name);
    byte[] cached = xattrs.get(key);
    if (cached == null) {
      cached = xattrs.get(noXattrsKey(inode));
    }
    if (cached == NO_XATTR) {
      throw new RpcException(Status.ENODATA, "no xattr " + name + " on inode " + inode);
    }
    if (cached != null) {
      return cached;
    }
    long generation = xattrs.generation();
    try {
      byte[] value = call(caller, MetaRequest.newBuilder().setGetXattr(
          GetXattrOp.newBuilder().setInode(inode).setName(name))).getValue().toByteArray();
      xattrs.put(key, value, generation);
      return value;
    } catch (RpcException e) {
      if (e.status() == Status.ENODATA) {
        xattrs.put(key, NO_XATTR, generation);
      }
      throw e;
    }
  }

  private static String xattrKey(long inode, String name) {
    return inode + "/" + name;
  }

  /** The key that says an inode has no xattrs at all (no xattr name is empty). */
  private static String noXattrsKey(long inode) {
    return inode + "/";
  }

  AttrCache attrCache() {
    return attrs;
  }

  /** Resolves {@code path}; for a regular file, also where its first {@code chunkLookahead} chunks live. */
  MetaResponse resolve(Caller caller, String path, int chunkLookahead) throws RpcException {
    WriteBack.Resolved local = writeBack.resolve(path);
    if (local != null) {
      // Held here: the attributes are this mount's, or (a name that existed before) asked of
      // the servers by inode, as they are now.
      Attr attr = local.hasAttr() ? local.attr() : getAttr(caller, local.inode());
      return MetaResponse.newBuilder().setStatus(Status.OK).setAttr(attr).build();
    }
    return call(caller, MetaRequest.newBuilder().setResolve(ResolveOp.newBuilder()
        .setPath(path)
        .setChunkLookahead(chunkLookahead)));
  }

  /** Namespace mutations; the chunk map calls change no attribute a getattr shows. */
  static boolean changesAttributes(MetaRequest.OpCase op) {
    switch (op) {
      case ALLOCATE_CHUNK:
      case REPORT_REPLICA_FAILURE:
      case ADD_REPLICA:
      case FENCE_CHUNK:
      case SET_LOCK:
      case KEEP_ALIVE:
      case OPEN_SESSION:
      case CLOSE_SESSION:
      case LEASE_INODES:
      case ACQUIRE_CAPABILITY:
      case RELEASE_CAPABILITY:
        return false;
      default:
        return isMutation(op);
    }
  }

  static boolean isMutation(MetaRequest.OpCase op) {
    switch (op) {
      case MAKE_NODE:
      case SYMLINK:
      case LINK:
      case UNLINK:
      case RMDIR:
      case RENAME:
      case SET_ATTR:
      case COMMIT_WRITE:
      case SET_XATTR:
      case REMOVE_XATTR:
      case PURGE:
      case ALLOCATE_CHUNK:
      case REPORT_REPLICA_FAILURE:
      case ADD_REPLICA:
      case FENCE_CHUNK:
      case MOVE_CHUNKS:
      case APPEND:
      case RELEASE_ORPHAN:
      case SET_LOCK:
      case KEEP_ALIVE:
      case OPEN_SESSION:
      case CLOSE_SESSION:
      case JOURNAL:
      case LEASE_INODES:
      case ACQUIRE_CAPABILITY:
      case RELEASE_CAPABILITY:
        return true;
      default:
        return false;
    }
  }
}
