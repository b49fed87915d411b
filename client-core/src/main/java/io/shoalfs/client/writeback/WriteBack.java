package io.shoalfs.client.writeback;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metadata write-back for one mount, and the directories it caches under shared capabilities
 * ({@link SharedDirectories}: taken on the second read of a directory this mount does not
 * hold, {@link #noteAccess}): in the directories it holds exclusive capabilities on
 * (those it made, and existing ones it takes when it works there alone: {@link
 * #takeCapabilities}, {@link TakePolicy}), namespace operations are decided and answered here
 * ({@link LocalNamespace}) and journaled;
 * the journal goes to the metadata group as one request, one Raft entry, when it is
 * {@link JournalSettings#flushAge} old or {@link JournalSettings#maxOps} long, on fsync, on a
 * recall, before any call to the servers about what it holds, and at unmount.
 *
 * <p>Order: journaled operations reach the servers in the order they were answered here, and an
 * operation sent to the servers directly that concerns held state is sent only after the journal
 * before it was applied ({@link #beforeRemote}). A journaled operation the servers refuse (it
 * should not happen under a capability; a full disk can) is logged, fails the next fsync or
 * close with EIO, and the mount gives back everything it holds, starting again from the servers'
 * state.
 */
public final class WriteBack implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteBack.class);
  /** The root directory's inode, where path walks start. */
  private static final long ROOT_INODE = 1;
  /** A directory read again within this is taken shared ({@link #noteAccess}). */
  static final Duration SECOND_READ_WITHIN = Duration.ofSeconds(30);
  private static final int FIRST_READS_REMEMBERED = 10_000;

  /** What the write-back needs of the metadata service. */
  public interface Service {
    /**
     * Sends one journal: the ops in order, then the capabilities given back ({@code release},
     * either kind; {@code releaseShared}, shared holdings only); answers each op in order
     * (MetaResponse.batched). Thrown when the journal as a whole was not applied.
     */
    MetaResponse sendJournal(List<MetaRequest.Builder> ops, Collection<Long> release,
        Collection<Long> releaseShared) throws RpcException;

    /** Leases {@code count} inode numbers to the session (LeaseInodesOp). */
    MetaResponse leaseInodes(int count) throws RpcException;

    /**
     * Asks for the exclusive (or {@code shared}) capability of existing directory {@code dir}
     * (AcquireCapabilityOp): answered OK with capability_granted and the directory's
     * attributes, or CAP_HELD (thrown) while another mount's holding is in the way.
     */
    MetaResponse acquireCapability(long dir, boolean shared) throws RpcException;

    /**
     * Every entry of {@code dir} with its attributes, straight from the servers; null when it
     * has more than {@code max}.
     */
    List<DirEntry> listDirectory(long dir, int max) throws RpcException;
  }

  /** What a held directory knows of a path (see {@link #resolve}). */
  public record Resolved(long inode, Attr attr) {
    /** Whether the attributes are this mount's; if not, they are the servers' to give. */
    public boolean hasAttr() {
      return attr != null;
    }
  }

  private final Service service;
  private final JournalSettings settings;
  private final InodeLease lease;
  private final LocalNamespace namespace;
  private final ScheduledExecutorService flusher;
  private final java.util.concurrent.ExecutorService leaseThread; // null when a test runs leases
  /** Guards the namespace and the journal: a journal's order is the order of answers. */
  private final Object lock = new Object();
  /** One flush at a time, so journals are applied in the order they were taken. */
  private final ReentrantLock flushing = new ReentrantLock();
  private List<MetaRequest.Builder> journal = new ArrayList<>(); // guarded by lock
  private long oldestNs;                                          // guarded by lock
  private volatile RpcException failure;
  /**
   * Journals on their way that give capabilities back or hand an inode to the servers: what
   * they covered is no longer answered here and not yet applied there, so calls wait for them
   * ({@link #awaitRelease}). Guarded by lock, which is also what waiters wait on.
   */
  private int settling;
  private final TakePolicy takePolicy = new TakePolicy();         // guarded by lock
  private final SharedDirectories shared = new SharedDirectories(); // guarded by lock
  /** First read of each directory not held, for taking it on the second. Guarded by lock. */
  private final Map<Long, Long> firstReadNs = new HashMap<>();
  /** Directories whose shared capability is being taken. Guarded by lock. */
  private final Set<Long> takingShared = new HashSet<>();
  /**
   * While shared capabilities are being taken: the directories and inodes this mount changed
   * through the servers, or that were recalled, since a listing on its way may predate them.
   * Guarded by lock; emptied when no take is under way.
   */
  private final Set<Long> changedWhileTaking = new HashSet<>();
  /** Shared capabilities dropped here and not yet given back to the servers. Guarded by lock. */
  private final Set<Long> sharedToGiveBack = new HashSet<>();
  /** Runs shared takes: its own thread, or (tests) the given executor. */
  private final Executor sharedTaker;
  private final ExecutorService sharedTakeThread; // null in tests
  /** Directories whose capability is being taken: their mutations wait. Guarded by lock. */
  private final Set<Long> taking = new HashSet<>();
  /**
   * Mutations sent to the servers and not answered yet, by the directory they change: a
   * directory with one on its way is not taken (its listing could miss it). Guarded by lock.
   */
  private final Map<Long, Integer> remoteIn = new HashMap<>();
  /** Inodes whose names a journal on its way changed (see LocalNamespace). Guarded by lock. */
  private final Set<Long> sendingPending = new HashSet<>();
  private volatile boolean closed;
  /** Reads answered from shared listings since the mount started. Guarded by lock. */
  private long sharedAnswers;

  /** The xattr of the mount's root that shows {@link #capabilityFigures}. */
  public static final String CAPABILITIES_XATTR = "user.shoal.capabilities";

  public WriteBack(Service service, Supplier<List<MemberInfo>> members, JournalSettings settings) {
    this(service, members, settings, null);
  }

  /**
   * {@code leases} runs inode leases and shared takes (null: threads of their own, off every
   * caller's path).
   */
  WriteBack(Service service, Supplier<List<MemberInfo>> members, JournalSettings settings,
      Executor leases) {
    this.service = service;
    this.settings = settings;
    this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "journal-flush");
      t.setDaemon(true);
      return t;
    });
    // Its own thread: a lease must not wait behind journals, since a create may wait for it.
    this.leaseThread = leases != null ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "inode-lease");
      t.setDaemon(true);
      return t;
    });
    this.lease = new InodeLease(this::lease, leases != null ? leases : leaseThread);
    // Its own thread: a take is two calls to the servers, off every caller's path.
    this.sharedTakeThread = leases != null ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "shared-take");
      t.setDaemon(true);
      return t;
    });
    this.sharedTaker = leases != null ? leases : sharedTakeThread;
    this.namespace = new LocalNamespace(lease, new ChunkPlacer(members));
    if (settings.enabled()) {
      long tick = Math.max(1, settings.flushAge().toMillis() / 2);
      flusher.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }
  }

  /** The mount's session is open: the first inode range is asked for ahead of the first create. */
  public void sessionStarted() {
    if (enabled()) {
      lease.prefetch();
    }
  }

  public boolean enabled() {
    return settings.enabled() && !closed;
  }

  // ------------------------------------------------------------------ answering locally

  /** The answer from held state, or null when the servers must answer. */
  public MetaResponse local(MetaRequest.Builder request) throws RpcException {
    if (!enabled()) {
      return null;
    }
    synchronized (lock) {
      long now = System.nanoTime();
      if (!shared.isEmpty()) {
        MetaResponse read = shared.read(request, now);
        if (read != null) {
          sharedAnswers++;
          return read;
        }
      }
      if (!namespace.holdsAnything()) {
        return null;
      }
      MetaResponse read = namespace.read(request, now);
      if (read != null) {
        return read;
      }
      int before = journal.size();
      MetaResponse answer = namespace.mutate(request, now, journal);
      if (answer != null && before == 0 && !journal.isEmpty()) {
        oldestNs = now;
      }
      if (journal.size() >= settings.maxOps()) {
        flusher.execute(this::flushQuietly);
      }
      return answer;
    }
  }

  /**
   * {@code exclusive=N shared=N shared_answers=N}: the directories held now of each kind, and
   * the reads answered from shared listings so far. One line, stable order: for operators and
   * tests.
   */
  public String capabilityFigures() {
    synchronized (lock) {
      return "exclusive=" + namespace.heldCount() + " shared=" + shared.count()
          + " shared_answers=" + sharedAnswers;
    }
  }

  /** Whether this mount keeps {@code inode}'s attributes itself (under a capability). */
  public boolean holdsLocally(long inode) {
    if (!enabled()) {
      return false;
    }
    synchronized (lock) {
      return namespace.isLocal(inode);
    }
  }

  /**
   * Whether this mount holds directory {@code inode}: its listings, and the lookups and
   * attributes of the names it made there (exclusive) or its covered names (shared), are
   * answered here.
   */
  public boolean holdsDirectory(long inode) {
    if (!enabled()) {
      return false;
    }
    synchronized (lock) {
      return namespace.isHeld(inode) || shared.holds(inode);
    }
  }

  /**
   * Resolves {@code path} from held state, or null when the servers must. A name that existed
   * before this mount took its directory comes without attributes: ask the servers for them by
   * inode ({@link #beforeRemote} sends the journal first if it changed that name).
   */
  public Resolved resolve(String path) throws RpcException {
    if (!enabled()) {
      return null;
    }
    synchronized (lock) {
      LocalNamespace.Found found = namespace.holdsAnything() ? namespace.resolve(path) : null;
      if (found != null) {
        return new Resolved(found.inode(), found.attr());
      }
      long now = System.nanoTime();
      SharedDirectories.Walk walk = shared.walk(path, ROOT_INODE, now, namespace::heldEntries);
      if (walk.found() != null) {
        sharedAnswers++;
        return new Resolved(walk.found().inode(), walk.found().attr());
      }
      if (walk.unheld() != 0) {
        noteAccess(walk.unheld(), now);
      }
      return null;
    }
  }

  /**
   * Under lock: directory {@code dir}, not held here, was read through the servers. The second
   * read within {@link #SECOND_READ_WITHIN} takes its shared capability, in the background.
   */
  private void noteAccess(long dir, long nowNs) {
    if (shared.holds(dir) || namespace.isHeld(dir) || takingShared.contains(dir)
        || shared.count() >= SharedDirectories.MAX_HELD
        || !takePolicy.mayTake(dir, namespace.heldCount(), nowNs)) {
      return;
    }
    Long first = firstReadNs.get(dir);
    if (first == null || nowNs - first > SECOND_READ_WITHIN.toNanos()) {
      if (firstReadNs.size() >= FIRST_READS_REMEMBERED) {
        firstReadNs.clear();
      }
      firstReadNs.put(dir, nowNs);
      return;
    }
    firstReadNs.remove(dir);
    takingShared.add(dir);
    try {
      sharedTaker.execute(() -> takeShared(dir));
    } catch (RejectedExecutionException e) {
      takingShared.remove(dir); // closing
    }
  }

  /** Takes {@code dir}'s shared capability and its listing, unless something got in the way. */
  private void takeShared(long dir) {
    List<DirEntry> entries = null;
    boolean granted = false;
    try {
      granted = service.acquireCapability(dir, true).getCapabilityGranted();
      if (granted) {
        entries = service.listDirectory(dir, TakePolicy.MAX_ENTRIES);
      }
    } catch (RpcException | RuntimeException e) {
      LOG.debug("shared capability of directory {} not taken: {}", dir, e.toString());
    }
    synchronized (lock) {
      takingShared.remove(dir);
      boolean stale = changedWhileTaking.contains(dir) || remoteIn.getOrDefault(dir, 0) > 0
          || namespace.isHeld(dir) || closed;
      if (entries == null || stale) {
        if (granted) {
          sharedToGiveBack.add(dir);
        }
        if (entries == null) {
          takePolicy.leaveAlone(dir, System.nanoTime());
        }
      } else {
        sharedToGiveBack.remove(dir);
        sharedToGiveBack.addAll(shared.adopt(dir, entries, System.nanoTime()));
        changedWhileTaking.forEach(shared::forgetAttr);
      }
      if (takingShared.isEmpty()) {
        changedWhileTaking.clear();
      }
    }
  }

  /**
   * Under lock: {@code request}, sent to the servers by this mount, changes what shared
   * listings here may hold: they forget it (the directory's whole listing when its names
   * change; an inode's covered attributes when they do).
   */
  private void forgetSharedChangedBy(MetaRequest.Builder request) {
    long inode = switch (request.getOpCase()) {
      case SET_ATTR -> request.getSetAttr().getInode();
      case COMMIT_WRITE -> request.getCommitWrite().getInode();
      case SET_XATTR -> request.getSetXattr().getInode();
      case REMOVE_XATTR -> request.getRemoveXattr().getInode();
      case APPEND -> request.getAppend().getInode();
      case LINK -> request.getLink().getInode();
      default -> 0;
    };
    if (inode != 0) {
      shared.forgetAttr(inode);
      if (!takingShared.isEmpty()) {
        changedWhileTaking.add(inode);
      }
    }
    long removedDir = switch (request.getOpCase()) {
      case RMDIR -> shared.entryInode(request.getRmdir().getParent(), request.getRmdir().getName());
      case RENAME -> shared.entryInode(request.getRename().getDstParent(),
          request.getRename().getDstName());
      default -> 0;
    };
    if (removedDir != 0 && shared.holds(removedDir)) {
      shared.forgetDir(removedDir); // removed, or replaced: its capability goes with it
    }
    for (long dir : dirsChangedBy(request)) {
      if (request.getOpCase() == MetaRequest.OpCase.SET_ATTR
          || request.getOpCase() == MetaRequest.OpCase.SET_XATTR
          || request.getOpCase() == MetaRequest.OpCase.REMOVE_XATTR) {
        continue; // the inode's own attributes: a held listing does not keep a directory's
      }
      if (shared.holds(dir)) {
        // Given back because this mount changed it through the servers: taking it again at
        // once would only give it back again.
        shared.forgetDir(dir);
        sharedToGiveBack.add(dir);
        takePolicy.leaveAlone(dir, System.nanoTime());
      }
      if (!takingShared.isEmpty()) {
        changedWhileTaking.add(dir);
      }
    }
  }

  /** A directory this mount made with the servers, granted to it exclusively. */
  public void madeDirectory(String path, Attr dir, long parent) {
    if (!enabled()) {
      return;
    }
    synchronized (lock) {
      namespace.hold(path, dir, parent, System.nanoTime());
    }
  }

  /**
   * Before a namespace mutation in a directory this mount does not hold: takes the capability of
   * the directories that would let it be answered here ({@link LocalNamespace#wanted}), when
   * {@link TakePolicy} says this mount may. {@code parentPath} (and a rename's
   * {@code dstParentPath}) are the paths the caller resolved the request's directories from.
   * Whatever fails here only leaves the mutation to the servers.
   */
  public void takeCapabilities(MetaRequest.Builder request, String parentPath,
      String dstParentPath) {
    if (!enabled()) {
      return;
    }
    // A rename can want up to four directories; more rounds than that means a race: give up.
    for (int round = 0; round < 4; round++) {
      LocalNamespace.Wanted wanted;
      synchronized (lock) {
        wanted = namespace.wanted(request, parentPath, dstParentPath);
        if (wanted == null || taking.contains(wanted.dir())
            || remoteIn.getOrDefault(wanted.dir(), 0) > 0
            || !takePolicy.mayTake(wanted.dir(), namespace.heldCount(), System.nanoTime())) {
          return;
        }
        taking.add(wanted.dir());
      }
      try {
        if (!take(wanted)) {
          return;
        }
      } finally {
        synchronized (lock) {
          taking.remove(wanted.dir());
          lock.notifyAll();
        }
      }
    }
  }

  /** Takes one directory's capability and its listing; false when it stays the servers'. */
  private boolean take(LocalNamespace.Wanted wanted) {
    long dir = wanted.dir();
    MetaResponse granted;
    try {
      granted = service.acquireCapability(dir, false);
    } catch (RpcException e) {
      LOG.debug("directory {} not taken: {}", dir, e.toString());
      leaveAlone(dir);
      return false;
    }
    if (!granted.getCapabilityGranted()) {
      leaveAlone(dir);
      return false;
    }
    List<DirEntry> entries;
    try {
      entries = service.listDirectory(dir, TakePolicy.MAX_ENTRIES);
    } catch (RpcException e) {
      LOG.debug("directory {} not listed: {}", dir, e.toString());
      entries = null;
    }
    if (entries == null || anyKeptByTheServers(entries)) {
      // Too large, or a file reachable through another directory too (whose attributes and
      // links that directory's users change): the servers keep it.
      leaveAlone(dir);
      giveBack(dir);
      return false;
    }
    synchronized (lock) {
      shared.forgetDir(dir); // the servers made this mount's shared holding exclusive
      sharedToGiveBack.remove(dir);
      namespace.adopt(wanted.path(), granted.getAttr(), wanted.parent(), entries,
          System.nanoTime());
    }
    return true;
  }

  /** A file with more than one link, or an entry listed without its attributes. */
  private static boolean anyKeptByTheServers(List<DirEntry> entries) {
    for (DirEntry e : entries) {
      if (!e.hasAttr() || (e.getType() != FileType.DIRECTORY && e.getAttr().getNlink() > 1)) {
        return true;
      }
    }
    return false;
  }

  private void leaveAlone(long dir) {
    synchronized (lock) {
      takePolicy.leaveAlone(dir, System.nanoTime());
    }
  }

  private void giveBack(long dir) {
    try {
      flush(List.of(dir));
    } catch (RpcException e) {
      LOG.warn("cannot give back directory {} (it ends with the session): {}", dir, e.toString());
    }
  }

  // ------------------------------------------------------------------ ordering with the servers

  /**
   * Called before {@code request} goes to the servers: if it concerns held state, the journal
   * goes first, and what the request will change there is given back (directories) or no longer
   * kept here (inodes), since the servers' answer, not this mount, decides it now. Returns false
   * instead when a directory the request changes was being taken meanwhile: ask
   * {@link #local} again. After true, {@link #afterRemote} must follow the servers' answer.
   */
  public boolean beforeRemote(MetaRequest.Builder request) throws RpcException {
    if (!enabled()) {
      return true;
    }
    awaitRelease();
    List<Long> release = new ArrayList<>();
    long forget = 0;
    boolean flush = false;
    synchronized (lock) {
      List<Long> changes = dirsChangedBy(request);
      if (waitWhileTaking(changes)) {
        return false;
      }
      changes.forEach(dir -> remoteIn.merge(dir, 1, Integer::sum));
      forgetSharedChangedBy(request);
      if (request.getOpCase() == MetaRequest.OpCase.READ_DIR
          && request.getReadDir().getStartAfter().isEmpty()) {
        noteAccess(request.getReadDir().getInode(), System.nanoTime());
      }
      if (!namespace.holdsAnything() && journal.isEmpty()) {
        return true;
      }
      switch (request.getOpCase()) {
        case GET_ATTR -> flush = answersFor(request.getGetAttr().getInode());
        case READ_LINK -> flush = answersFor(request.getReadLink().getInode());
        case GET_XATTR -> flush = answersFor(request.getGetXattr().getInode());
        case LIST_XATTR -> flush = answersFor(request.getListXattr().getInode());
        case GET_CHUNK_LOCATIONS ->
            flush = namespace.isLocal(request.getGetChunkLocations().getInode());
        case ALLOCATE_CHUNK -> flush = chunksTakenOver(
            request.getAllocateChunk().getChunk().getInode());
        // A replica of a chunk this mount placed failed: the journal that registers it first.
        case REPORT_REPLICA_FAILURE -> flush = chunksTakenOver(
            request.getReportReplicaFailure().getChunk().getInode());
        case GET_LOCK -> flush = namespace.isLocal(request.getGetLock().getInode());
        case SET_LOCK -> flush = namespace.isLocal(request.getSetLock().getInode());
        case RELEASE_ORPHAN -> flush = namespace.isLocal(request.getReleaseOrphan().getInode());
        case LOOKUP -> flush = namespace.isHeld(request.getLookup().getParent());
        case READ_DIR -> flush = namespace.isHeld(request.getReadDir().getInode());
        // Only names in held directories are journaled: a path through none of them (the
        // root's, which the kernel asks about on every path walk) resolves the same either way.
        case RESOLVE -> flush = namespace.heldOnPath(request.getResolve().getPath());
        case SET_ATTR -> forget = request.getSetAttr().getInode();
        case COMMIT_WRITE -> forget = request.getCommitWrite().getInode();
        case SET_XATTR -> forget = request.getSetXattr().getInode();
        case REMOVE_XATTR -> forget = request.getRemoveXattr().getInode();
        case APPEND -> forget = request.getAppend().getInode();
        case LINK -> {
          forget = request.getLink().getInode();
          releaseIfHeld(request.getLink().getNewParent(), release);
        }
        case MAKE_NODE -> releaseIfHeld(request.getMakeNode().getParent(), release);
        case SYMLINK -> releaseIfHeld(request.getSymlink().getParent(), release);
        case UNLINK -> releaseIfHeld(request.getUnlink().getParent(), release);
        case RMDIR -> {
          releaseIfHeld(request.getRmdir().getParent(), release);
          releaseIfHeld(namespace.heldChild(request.getRmdir().getParent(),
              request.getRmdir().getName()), release);
        }
        // A rename may move a directory held paths run through: give everything back.
        case RENAME -> {
          releaseIfHeld(request.getRename().getSrcParent(), release);
          releaseIfHeld(request.getRename().getDstParent(), release);
          release.forEach(dir -> takePolicy.leaveAlone(dir, System.nanoTime()));
          release.clear();
          release.addAll(namespace.heldDirs());
        }
        default -> { }
      }
      if (request.getOpCase() != MetaRequest.OpCase.RENAME) {
        // Given back because this mount could not do the operation itself: taking the
        // directory again at once would only give it back again.
        release.forEach(dir -> takePolicy.leaveAlone(dir, System.nanoTime()));
      }
      boolean local = forget != 0 && answersFor(forget);
      flush = flush || local || !release.isEmpty();
      if (local && namespace.coveringDir(forget) == forget) {
        release.add(forget); // a held directory's own attributes: give it back
        forget = 0;
      } else if (!local) {
        forget = 0;
      }
    }
    if (flush) {
      try {
        flush(release, forget);
      } catch (RpcException | RuntimeException e) {
        afterRemote(request);
        throw e;
      }
    }
    return true;
  }

  /** The servers answered (or failed) {@code request}, which {@link #beforeRemote} let go. */
  public void afterRemote(MetaRequest.Builder request) {
    if (!enabled()) {
      return;
    }
    synchronized (lock) {
      for (long dir : dirsChangedBy(request)) {
        remoteIn.computeIfPresent(dir, (d, n) -> n == 1 ? null : n - 1);
      }
      // Again: a listing taken while the request was on its way may not show it.
      forgetSharedChangedBy(request);
    }
  }

  /** The directories whose entries or attributes {@code request} changes (by inode). */
  private static List<Long> dirsChangedBy(MetaRequest.Builder request) {
    return switch (request.getOpCase()) {
      case MAKE_NODE -> List.of(request.getMakeNode().getParent());
      case SYMLINK -> List.of(request.getSymlink().getParent());
      case UNLINK -> List.of(request.getUnlink().getParent());
      case RMDIR -> List.of(request.getRmdir().getParent());
      case RENAME -> List.of(request.getRename().getSrcParent(),
          request.getRename().getDstParent());
      case LINK -> List.of(request.getLink().getNewParent());
      case SET_ATTR -> List.of(request.getSetAttr().getInode());
      case SET_XATTR -> List.of(request.getSetXattr().getInode());
      case REMOVE_XATTR -> List.of(request.getRemoveXattr().getInode());
      default -> List.of();
    };
  }

  /** Waits (under lock) while any of {@code dirs} is being taken; whether it waited. */
  private boolean waitWhileTaking(List<Long> dirs) {
    boolean waited = false;
    while (dirs.stream().anyMatch(taking::contains)) {
      waited = true;
      try {
        lock.wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return true;
      }
    }
    return waited;
  }

  /**
   * Under lock: a chunk of {@code inode} goes to the servers to be placed again; whether the
   * journal must go first (it registers the chunks this mount placed).
   */
  private boolean chunksTakenOver(long inode) {
    namespace.chunksTakenOver(inode);
    return namespace.isLocal(inode);
  }

  /** Under lock: whether the servers' word on {@code inode} may be older than this mount's. */
  private boolean answersFor(long inode) {
    return namespace.answersFor(inode) || sendingPending.contains(inode);
  }

  /**
   * Waits while a journal that gives capabilities back is on its way: until it is applied, the
   * servers' answer about what it covered (and this mount's cached copy of it) may be older
   * than what this mount did there.
   */
  public void awaitRelease() {
    synchronized (lock) {
      while (settling > 0) {
        try {
          lock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private void releaseIfHeld(long dir, List<Long> release) {
    if (dir != 0 && namespace.isHeld(dir)) {
      release.add(dir);
    }
  }

  // ------------------------------------------------------------------ flushing

  /** Sends the journal and waits until it is applied (fsync, syncfs, unmount). */
  public void flush() throws RpcException {
    flush(List.of());
  }

  /**
   * The servers want these back (a recall, or a keep-alive that lists recalled ones): the
   * journal goes with them given back, off the caller's thread.
   */
  public void recalled(Collection<Long> dirs) {
    if (!enabled()) {
      return;
    }
    synchronized (lock) {
      long now = System.nanoTime();
      dirs.forEach(dir -> takePolicy.leaveAlone(dir, now));
      dirs.forEach(shared::forgetDir);
      if (!takingShared.isEmpty()) {
        changedWhileTaking.addAll(dirs);
      }
    }
    flusher.execute(() -> {
      try {
        LOG.debug("recall of {}", dirs);
        // Given back even when not held here (any more): the servers' record may still say so.
        flush(new ArrayList<>(dirs));
      } catch (RpcException e) {
        LOG.warn("recall of {} not answered yet: {}", dirs, e.toString());
      }
    });
  }

  /** The session ended on the servers: what it held, and its unsent journal, are gone. */
  public void sessionEnded() {
    synchronized (lock) {
      if (!journal.isEmpty()) {
        LOG.error("the session ended with {} journaled operations unsent: they are lost",
            journal.size());
        failure = new RpcException(Status.EIO, journal.size()
            + " operations were lost with the mount's ended session");
      }
      journal = new ArrayList<>();
      namespace.clear();
      shared.clear();
      sharedToGiveBack.clear();
      changedWhileTaking.addAll(takingShared);
      lease.drop();
    }
  }

  /** The failure of a journaled operation not yet reported, cleared by this call. */
  public RpcException takeFailure() {
    RpcException f = failure;
    failure = null;
    return f;
  }

  private void flush(List<Long> release) throws RpcException {
    flush(release, 0);
  }

  /**
   * Sends the journal with {@code release} given back; {@code forget} (0: none) stops being
   * kept here in the same step. Until the servers have applied it, calls about anything wait.
   */
  private void flush(List<Long> release, long forget) throws RpcException {
    boolean settles = !release.isEmpty() || forget != 0;
    if (settles) {
      synchronized (lock) {
        settling++;
      }
    }
    flushing.lock();
    Set<Long> sending = Set.of();
    List<Long> releaseShared = List.of();
    try {
      List<MetaRequest.Builder> ops;
      synchronized (lock) {
        ops = journal;
        journal = new ArrayList<>();
        if (!sharedToGiveBack.isEmpty()) {
          releaseShared = new ArrayList<>(sharedToGiveBack);
          sharedToGiveBack.clear();
        }
        sending = namespace.takePending();
        sendingPending.addAll(sending);
        for (long dir : release) {
          namespace.release(dir);
        }
        if (forget != 0) {
          namespace.forget(forget);
        }
      }
      if (ops.isEmpty() && release.isEmpty() && releaseShared.isEmpty()) {
        return;
      }
      MetaResponse answer;
      try {
        answer = service.sendJournal(ops, release, releaseShared);
      } catch (RpcException e) {
        lost(ops, "the journal was not applied: " + e.getMessage());
        throw e;
      }
      for (int i = 0; i < answer.getBatchedCount(); i++) {
        MetaResponse op = answer.getBatched(i);
        if (op.getStatus() != Status.OK) {
          refused(ops.get(i), op);
          break; // everything is given back: one report says it
        }
      }
    } finally {
      if (!sending.isEmpty()) {
        synchronized (lock) {
          sendingPending.removeAll(sending);
        }
      }
      flushing.unlock();
      if (settles) {
        synchronized (lock) {
          settling--;
          lock.notifyAll();
        }
      }
    }
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RpcException | RuntimeException e) {
      LOG.warn("journal flush failed: {}", e.toString());
    }
  }

  /** Every {@code flushAge / 2}: a journal old enough goes; idle capabilities go back. */
  private void tick() {
    long now = System.nanoTime();
    boolean due;
    List<Long> idle;
    synchronized (lock) {
      due = !journal.isEmpty() && now - oldestNs >= settings.flushAge().toNanos();
      idle = namespace.idleSince(now - settings.idleRelease().toNanos());
      for (long dir : shared.idleSince(now - settings.idleRelease().toNanos())) {
        shared.forgetDir(dir);
        sharedToGiveBack.add(dir);
      }
      due = due || !sharedToGiveBack.isEmpty();
    }
    try {
      if (!idle.isEmpty()) {
        flush(idle);
      } else if (due) {
        flush();
      }
    } catch (RpcException | RuntimeException e) {
      LOG.warn("journal flush failed: {}", e.toString());
    }
  }

  /** An op the servers refused: the mount's view and theirs differ, so start again from theirs. */
  private void refused(MetaRequest.Builder op, MetaResponse answer) {
    LOG.error("a journaled {} was refused by the metadata service ({} {}): reported at the next "
        + "fsync or close; giving back every capability", op.getOpCase(), answer.getStatus(),
        answer.getError());
    failure = new RpcException(Status.EIO, "a journaled " + op.getOpCase() + " was refused: "
        + answer.getStatus() + " " + answer.getError());
    giveBackEverything();
  }

  private void lost(List<MetaRequest.Builder> ops, String why) {
    if (ops.isEmpty()) {
      return;
    }
    LOG.error("{} journaled operations may be lost: {}", ops.size(), why);
    failure = new RpcException(Status.EIO, why);
    giveBackEverything();
  }

  private void giveBackEverything() {
    List<Long> all;
    synchronized (lock) {
      all = namespace.heldDirs();
      all.forEach(namespace::release);
      all.addAll(shared.dirs());
      all.addAll(sharedToGiveBack);
      shared.clear();
      sharedToGiveBack.clear();
    }
    if (!all.isEmpty()) {
      flusher.execute(() -> {
        try {
          service.sendJournal(List.of(), all, List.of());
        } catch (RpcException e) {
          LOG.warn("cannot give back capabilities (they end with the session): {}", e.toString());
        }
      });
    }
  }

  private InodeLease.Range lease(int count) throws RpcException {
    MetaResponse r = service.leaseInodes(count);
    return new InodeLease.Range(r.getInodeRangeStart(), r.getInodeRangeCount(),
        r.getReplication(), r.getMinReplicas());
  }

  /** Unmount: the journal goes, every capability is given back. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    try {
      List<Long> all;
      synchronized (lock) {
        all = namespace.heldDirs();
        all.addAll(shared.dirs());
        shared.clear();
      }
      flush(all);
    } catch (RpcException | RuntimeException e) {
      LOG.error("unmount could not send the journal: {}", e.toString());
    } finally {
      closed = true;
      flusher.shutdownNow();
      if (sharedTakeThread != null) {
        sharedTakeThread.shutdownNow();
      }
      if (leaseThread != null) {
        leaseThread.shutdownNow();
      }
    }
  }
}
