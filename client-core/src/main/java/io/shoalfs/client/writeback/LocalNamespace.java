package io.shoalfs.client.writeback;

import io.shoalfs.fs.AttrRules;
import io.shoalfs.fs.Relatime;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.CommitWriteOp;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SymlinkOp;
import io.shoalfs.rpc.RpcException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The part of the namespace this mount holds exclusive capabilities on, kept here and changed
 * here: held directories with their complete listings, and the inodes made in them. An
 * operation inside it is checked with the metadata service's own rules, applied at once, and
 * handed to the journal; one this class cannot decide alone it declines (null), and the caller
 * sends it to the servers instead, or first takes the directories {@link #wanted} names.
 *
 * <p>A directory that existed before this mount took it ({@link #adopt}) lists names whose
 * inodes this mount did not make. Their names are this mount's to change (nobody else can reach
 * them through the directory), but their attributes stay the servers': another mount may hold
 * such a file open and write it. So they are answered as names only, their attributes asked of
 * the servers, and an inode whose name the unsent journal moved or removed is {@link #pending}:
 * the journal goes before the servers are asked about it.
 *
 * <p>Not thread-safe: {@link WriteBack} calls it under its lock, in the order its journal keeps.
 */
final class LocalNamespace {
  static final int NAME_MAX = 255;
  private static final int S_ISVTX = 01000;
  /** What an owner who is not root may change here; the rest is the servers' to decide. */
  private static final int OWNER_MAY_SET = AttrRules.SET_MODE | AttrRules.SET_ATIME
      | AttrRules.SET_MTIME | AttrRules.SET_ATIME_NOW | AttrRules.SET_MTIME_NOW;

  private final Map<Long, HeldDirectory> held = new HashMap<>();
  private final Map<String, HeldDirectory> heldByPath = new HashMap<>();
  private final Map<Long, LocalInode> inodes = new HashMap<>();
  /** Inodes whose attributes are the servers' and whose names the unsent journal changed. */
  private Set<Long> pending = new HashSet<>();
  private final InodeLease lease;
  private final ChunkPlacer placer;

  LocalNamespace(InodeLease lease, ChunkPlacer placer) {
    this.lease = lease;
    this.placer = placer;
  }

  // ------------------------------------------------------------------ what is held

  /** Starts holding a directory the servers just granted (made empty by this mount). */
  void hold(String path, Attr dir, long parent, long nowNs) {
    if (held.containsKey(dir.getInode())) {
      return; // made here under a capability already
    }
    HeldDirectory d = new HeldDirectory(dir.getInode(), parent, path, nowNs);
    held.put(d.inode, d);
    heldByPath.put(path, d);
    inodes.put(d.inode, new LocalInode(dir, d.inode, null));
  }

  /**
   * Starts holding a directory that existed before: granted just now, {@code entries} its whole
   * listing as the servers had it at the grant (nobody can have changed it since).
   */
  void adopt(String path, Attr dir, long parent, List<DirEntry> entries, long nowNs) {
    if (held.containsKey(dir.getInode())) {
      return;
    }
    HeldDirectory d = new HeldDirectory(dir.getInode(), parent, path, nowNs);
    for (DirEntry e : entries) {
      d.entries.put(e.getName(), new HeldDirectory.Entry(e.getInode(), e.getType()));
    }
    held.put(d.inode, d);
    heldByPath.put(path, d);
    inodes.put(d.inode, new LocalInode(dir, d.inode, null));
  }

  boolean isHeld(long dir) {
    return held.containsKey(dir);
  }

  int heldCount() {
    return held.size();
  }

  /**
   * Whether the servers' answer about {@code inode} may be older than what this mount did:
   * its attributes are kept here, or the unsent journal changed one of its names.
   */
  boolean answersFor(long inode) {
    return inodes.containsKey(inode) || pending.contains(inode);
  }

  /** The journal was taken to be sent: the inodes it changed names of, no longer pending. */
  Set<Long> takePending() {
    Set<Long> taken = pending;
    pending = new HashSet<>();
    return taken;
  }

  boolean isLocal(long inode) {
    return inodes.containsKey(inode);
  }

  boolean holdsAnything() {
    return !held.isEmpty();
  }

  List<Long> heldDirs() {
    return new ArrayList<>(held.keySet());
  }

  /** Forgets everything (the session that held it has ended). */
  void clear() {
    held.clear();
    heldByPath.clear();
    inodes.clear();
    pending.clear();
  }

  /** Held directory {@code dir}'s names, or null when it is not held (for path walks). */
  Map<String, HeldDirectory.Entry> heldEntries(long dir) {
    HeldDirectory d = held.get(dir);
    return d == null ? null : d.entries;
  }

  /** Held directories not used since {@code beforeNs}. */
  List<Long> idleSince(long beforeNs) {
    List<Long> out = new ArrayList<>();
    held.values().forEach(d -> {
      if (d.lastUsedNs - beforeNs < 0) { // nanoTime values compare by difference only
        out.add(d.inode);
      }
    });
    return out;
  }

  /** Whether a held directory lies on {@code path} (a resolve through it needs the journal). */
  boolean heldOnPath(String path) {
    for (String p = path; !p.isEmpty(); p = parentOf(p)) {
      if (heldByPath.containsKey(p)) {
        return true;
      }
      if (p.equals("/")) {
        break;
      }
    }
    return false;
  }

  /**
   * Stops holding {@code dir}: its own attributes and those of the inodes it covers are the
   * servers' again (once the journal is applied). Held directories below it stay held.
   */
  void release(long dir) {
    HeldDirectory d = held.remove(dir);
    if (d == null) {
      return;
    }
    heldByPath.remove(d.path, d);
    inodes.values().removeIf(i -> i.coveredBy == dir);
  }

  /** Stops keeping one inode's attributes here (the servers change it next). */
  void forget(long inode) {
    LocalInode i = inodes.get(inode);
    if (i != null && i.coveredBy != inode) {
      inodes.remove(inode);
    }
  }

  /** The held directory {@code inode} lives in (itself for a held directory), or 0. */
  long coveringDir(long inode) {
    LocalInode i = inodes.get(inode);
    return i == null ? 0 : i.coveredBy;
  }

  /**
   * The held directory named {@code name} in {@code parent}, or 0: from the parent's listing
   * when the parent is held, else among the directories held since this mount made them
   * through the servers (their parent is not held).
   */
  long heldChild(long parent, String name) {
    HeldDirectory d = held.get(parent);
    if (d != null) {
      HeldDirectory.Entry e = d.entries.get(name);
      return e != null && held.containsKey(e.inode()) ? e.inode() : 0;
    }
    for (HeldDirectory h : held.values()) {
      // An adopted directory whose parent this mount never learned matches by name alone:
      // giving back one directory too many costs a flush, keeping one too few loses its work.
      if ((h.parent == parent || h.parent == 0) && h.path.endsWith("/" + name)) {
        return h.inode;
      }
    }
    return 0;
  }

  /** A directory to take the capability of: its inode, its path, its parent (0: unknown). */
  record Wanted(long dir, String path, long parent) {}

  /**
   * The directory whose capability would let {@code request} be answered here, or null: none
   * would, or all it needs is held. {@code parentPath} and {@code dstParentPath} are the paths
   * of the request's directory and of a rename's destination directory, as the caller resolved
   * them (null: unknown, nothing is taken).
   */
  Wanted wanted(MetaRequest.Builder request, String parentPath, String dstParentPath) {
    switch (request.getOpCase()) {
      case MAKE_NODE:
        return parentWanted(request.getMakeNode().getParent(), parentPath);
      case SYMLINK:
        return parentWanted(request.getSymlink().getParent(), parentPath);
      case UNLINK:
        return parentWanted(request.getUnlink().getParent(), parentPath);
      case RMDIR: {
        Wanted parent = parentWanted(request.getRmdir().getParent(), parentPath);
        return parent != null ? parent
            : childDirWanted(request.getRmdir().getParent(), request.getRmdir().getName());
      }
      case RENAME: {
        RenameOp op = request.getRename();
        Wanted w = parentWanted(op.getSrcParent(), parentPath);
        if (w == null) {
          w = parentWanted(op.getDstParent(), dstParentPath);
        }
        if (w == null) {
          w = childDirWanted(op.getSrcParent(), op.getSrcName());
        }
        return w != null ? w : childDirWanted(op.getDstParent(), op.getDstName());
      }
      default:
        return null;
    }
  }

  /**
   * The root is never taken: every path of every mount runs through it, so holding it would
   * recall it at once.
   */
  private Wanted parentWanted(long dir, String path) {
    if (held.containsKey(dir) || path == null || path.equals("/")) {
      return null;
    }
    HeldDirectory above = heldByPath.get(parentOf(path));
    if (above == null) {
      return new Wanted(dir, path, 0);
    }
    HeldDirectory.Entry named = above.entries.get(path.substring(path.lastIndexOf('/') + 1));
    // The caller's path is checked against what is held: a stale one takes nothing.
    return named != null && named.inode() == dir ? new Wanted(dir, path, above.inode) : null;
  }

  /** A directory named in held {@code parent} that is not held itself. */
  private Wanted childDirWanted(long parent, String name) {
    HeldDirectory d = held.get(parent);
    HeldDirectory.Entry e = d == null ? null : d.entries.get(name);
    if (e == null || e.type() != FileType.DIRECTORY || held.containsKey(e.inode())) {
      return null;
    }
    return new Wanted(e.inode(), d.childPath(name), d.inode);
  }

  // ------------------------------------------------------------------ reads

  /**
   * What a held directory knows of a path: the inode it names and, when this mount keeps them,
   * its attributes (null: they are the servers', ask for them by inode).
   */
  record Found(long inode, Attr attr) {}

  /**
   * Resolves {@code path} if a held directory answers for it: the deepest held directory on the
   * path knows every name in it. Null when the servers must answer.
   */
  Found resolve(String path) throws RpcException {
    HeldDirectory start = null;
    String p = path;
    while (true) {
      start = heldByPath.get(p);
      if (start != null || p.equals("/") || p.isEmpty()) {
        break;
      }
      p = parentOf(p);
    }
    if (start == null) {
      return null;
    }
    List<String> names = new ArrayList<>();
    for (String name : path.substring(p.length()).split("/")) {
      if (!name.isEmpty()) {
        names.add(name);
      }
    }
    HeldDirectory dir = start;
    long inode = start.inode;
    for (int n = 0; n < names.size(); n++) {
      if (dir == null) {
        return null; // through a directory not held here: the servers know it
      }
      HeldDirectory.Entry e = dir.entries.get(names.get(n));
      if (e == null) {
        checkName(names.get(n));
        throw new RpcException(Status.ENOENT, path + ": no such entry");
      }
      if (e.type() != FileType.DIRECTORY && n < names.size() - 1) {
        throw new RpcException(Status.ENOTDIR, path + ": not a directory on the way");
      }
      inode = e.inode();
      dir = held.get(inode);
    }
    LocalInode found = inodes.get(inode);
    if (found != null) {
      return new Found(inode, found.attr);
    }
    // A directory that is held has a LocalInode: this is a name that existed before.
    return new Found(inode, null);
  }

  /** Answers a read about held state, or null when the servers must. */
  MetaResponse read(MetaRequest.Builder request, long nowNs) throws RpcException {
    switch (request.getOpCase()) {
      case GET_ATTR: {
        LocalInode i = inodes.get(request.getGetAttr().getInode());
        if (i == null) {
          return null;
        }
        touchUse(i.coveredBy, nowNs);
        return ok(i.attr).build();
      }
      case LOOKUP: {
        HeldDirectory d = held.get(request.getLookup().getParent());
        if (d == null) {
          return null;
        }
        d.lastUsedNs = nowNs;
        HeldDirectory.Entry e = d.entries.get(request.getLookup().getName());
        if (e == null) {
          checkName(request.getLookup().getName());
          throw new RpcException(Status.ENOENT, request.getLookup().getName());
        }
        LocalInode i = inodes.get(e.inode());
        return i == null ? null : ok(i.attr).build();
      }
      case READ_DIR:
        touchUse(request.getReadDir().getInode(), nowNs);
        return readDir(request.getReadDir());
      case READ_LINK: {
        LocalInode i = inodes.get(request.getReadLink().getInode());
        if (i == null) {
          return null;
        }
        if (i.target == null) {
          throw new RpcException(Status.EINVAL, "not a symbolic link");
        }
        return MetaResponse.newBuilder().setStatus(Status.OK).setTarget(i.target).build();
      }
      case GET_CHUNK_LOCATIONS:
        return chunkLocations(request.getGetChunkLocations());
      case GET_XATTR:
        if (inodes.containsKey(request.getGetXattr().getInode())) {
          throw new RpcException(Status.ENODATA, "no xattr " + request.getGetXattr().getName());
        }
        return null;
      case LIST_XATTR:
        return inodes.containsKey(request.getListXattr().getInode())
            ? MetaResponse.newBuilder().setStatus(Status.OK).build() : null;
      default:
        return null;
    }
  }

  private MetaResponse readDir(ReadDirOp op) {
    HeldDirectory d = held.get(op.getInode());
    if (d == null) {
      return null;
    }
    int limit = op.getLimit() == 0 ? 1024 : op.getLimit();
    MetaResponse.Builder page = MetaResponse.newBuilder().setStatus(Status.OK);
    for (Map.Entry<String, HeldDirectory.Entry> e
        : d.entries.tailMap(op.getStartAfter(), false).entrySet()) {
      if (page.getEntriesCount() == limit) {
        page.setHasMore(true);
        break;
      }
      LocalInode i = inodes.get(e.getValue().inode());
      DirEntry.Builder entry = DirEntry.newBuilder().setName(e.getKey())
          .setInode(e.getValue().inode()).setType(e.getValue().type());
      if (op.getWithAttrs() && i != null) {
        entry.setAttr(i.attr); // a name that existed before: its attributes are the servers'
      }
      page.addEntries(entry);
    }
    return page.build();
  }

  // ------------------------------------------------------------------ mutations

  /**
   * Applies a mutation inside held state and adds what the servers must apply to
   * {@code journal}; returns its answer, or null (nothing changed) when the servers must do it.
   * A POSIX refusal is thrown, as the servers would answer it.
   */
  MetaResponse mutate(MetaRequest.Builder request, long nowNs, List<MetaRequest.Builder> journal)
      throws RpcException {
    Caller caller = request.getCaller();
    switch (request.getOpCase()) {
      case MAKE_NODE:
        return makeNode(caller, request.getMakeNode(), journal, nowNs);
      case SYMLINK:
        return symlink(caller, request.getSymlink(), journal, nowNs);
      case UNLINK:
        return unlink(request, journal, nowNs);
      case RMDIR:
        return rmdir(request, journal, nowNs);
      case RENAME:
        return rename(request, journal, nowNs);
      case SET_ATTR:
        return setAttr(request, journal);
      case ALLOCATE_CHUNK:
        return allocateChunk(request, journal);
      case COMMIT_WRITE: {
        LocalInode i = inodes.get(request.getCommitWrite().getInode());
        if (i == null) {
          return null;
        }
        i.attr = committed(i.attr, request.getCommitWrite());
        touchUse(i.coveredBy, nowNs);
        journal.add(request.clone());
        return ok(i.attr).build();
      }
      default:
        return null;
    }
  }

  private MetaResponse makeNode(Caller caller, MakeNodeOp op, List<MetaRequest.Builder> journal,
      long nowNs) throws RpcException {
    HeldDirectory parent = held.get(op.getParent());
    if (parent == null) {
      return null;
    }
    checkNewName(parent, op.getName());
    long ino = lease.take();
    if (ino == 0) {
      return null;
    }
    Attr attr = create(caller, parent, op.getName(), op.getType(), op.getMode(), op.getRdev(),
        ino, op.getNowNs(), 0, null, nowNs);
    // A first chunk asked for with the create is placed at the first write instead
    // (allocateChunk): a file that stays empty costs the servers no chunk.
    MakeNodeOp.Builder sent = op.toBuilder().setInode(ino).clearFirstChunk()
        .setTakeCapability(op.getType() == FileType.DIRECTORY);
    journal.add(MetaRequest.newBuilder().setCaller(caller).setMakeNode(sent));
    MetaResponse.Builder answer = ok(attr).addChanged(inodes.get(parent.inode).attr);
    if (op.getType() == FileType.DIRECTORY) {
      answer.setCapabilityGranted(true);
    }
    return answer.build();
  }

  /**
   * A new chunk of a file made here, placed by this mount (members up, in turn) and registered
   * by the journal. A chunk placed before is being re-placed after a failed write: the servers'.
   */
  private MetaResponse allocateChunk(MetaRequest.Builder request,
      List<MetaRequest.Builder> journal) {
    ChunkId chunk = request.getAllocateChunk().getChunk();
    LocalInode file = inodes.get(chunk.getInode());
    if (file == null || file.attr.getType() != FileType.REGULAR || file.chunksAreServers
        || (file.placedChunks != null && file.placedChunks.containsKey(chunk.getIndex()))) {
      return null;
    }
    List<String> chain = placer.place(lease.replication(), lease.minReplicas());
    if (chain == null) {
      return null; // too few members up: the servers decide
    }
    ChunkLocation placed = ChunkLocation.newBuilder().setChunk(chunk).setVersion(1)
        .addAllReplicas(chain).build();
    if (file.placedChunks == null) {
      file.placedChunks = new HashMap<>();
    }
    file.placedChunks.put(chunk.getIndex(), placed);
    journal.add(MetaRequest.newBuilder().setCaller(request.getCaller()).setAllocateChunk(
        AllocateChunkOp.newBuilder().setChunk(chunk).addAllPlaced(chain)));
    return MetaResponse.newBuilder().setStatus(Status.OK).addLocations(placed).build();
  }

  /** The chunks of a file made here, from what this mount placed; null when the servers know. */
  private MetaResponse chunkLocations(GetChunkLocationsOp op) {
    LocalInode file = inodes.get(op.getInode());
    if (file == null || file.attr.getType() != FileType.REGULAR || file.chunksAreServers) {
      return null;
    }
    MetaResponse.Builder answer = MetaResponse.newBuilder().setStatus(Status.OK);
    if (file.placedChunks != null) {
      long end = Integer.toUnsignedLong(op.getFirstIndex()) + Integer.toUnsignedLong(op.getCount());
      file.placedChunks.entrySet().stream()
          .filter(e -> e.getKey() >= op.getFirstIndex() && e.getKey() < end)
          .sorted(Map.Entry.comparingByKey())
          .forEach(e -> answer.addLocations(e.getValue()));
    }
    return answer.build();
  }

  /**
   * A chunk of {@code inode} goes to the servers to be placed again or reported failed: from
   * then on they know its chunk map better than this mount.
   */
  void chunksTakenOver(long inode) {
    LocalInode file = inodes.get(inode);
    if (file != null) {
      file.chunksAreServers = true;
      file.placedChunks = null;
    }
  }

  private MetaResponse symlink(Caller caller, SymlinkOp op, List<MetaRequest.Builder> journal,
      long nowNs) throws RpcException {
    HeldDirectory parent = held.get(op.getParent());
    if (parent == null) {
      return null;
    }
    if (op.getTarget().isEmpty()) {
      throw new RpcException(Status.ENOENT, "empty symlink target");
    }
    int targetBytes = op.getTarget().getBytes(StandardCharsets.UTF_8).length;
    if (targetBytes >= 4096) {
      throw new RpcException(Status.ENAMETOOLONG, "symlink target too long");
    }
    checkNewName(parent, op.getName());
    long ino = lease.take();
    if (ino == 0) {
      return null;
    }
    Attr attr = create(caller, parent, op.getName(), FileType.SYMLINK, 0777, 0, ino,
        op.getNowNs(), targetBytes, op.getTarget(), nowNs);
    journal.add(MetaRequest.newBuilder().setCaller(caller).setSymlink(op.toBuilder().setInode(ino)));
    return ok(attr).addChanged(inodes.get(parent.inode).attr).build();
  }

  private MetaResponse unlink(MetaRequest.Builder request, List<MetaRequest.Builder> journal,
      long nowNs) throws RpcException {
    var op = request.getUnlink();
    HeldDirectory parent = held.get(op.getParent());
    if (parent == null || op.getKeepOpen() || stickyFor(request.getCaller(), parent)) {
      return null;
    }
    HeldDirectory.Entry e = parent.entries.get(op.getName());
    if (e == null) {
      throw new RpcException(Status.ENOENT, op.getName());
    }
    if (e.type() == FileType.DIRECTORY) {
      throw new RpcException(Status.EISDIR, op.getName() + " is a directory");
    }
    LocalInode child = inodes.get(e.inode());
    parent.entries.remove(op.getName());
    touchDir(parent, op.getNowNs(), 0, nowNs);
    journal.add(request.clone());
    MetaResponse.Builder answer = MetaResponse.newBuilder().setStatus(Status.OK)
        .setChangesListed(true).addChanged(inodes.get(parent.inode).attr);
    if (child == null) {
      // A file that existed before: the servers count its links when they apply this.
      pending.add(e.inode());
      return answer.build();
    }
    long freed = dropLink(child, op.getNowNs());
    answer.setFreedInode(freed);
    if (freed != 0) {
      answer.addFreed(freed);
    } else {
      answer.addChanged(child.attr);
    }
    return answer.build();
  }

  private MetaResponse rmdir(MetaRequest.Builder request, List<MetaRequest.Builder> journal,
      long nowNs) throws RpcException {
    var op = request.getRmdir();
    HeldDirectory parent = held.get(op.getParent());
    if (parent == null || stickyFor(request.getCaller(), parent)) {
      return null;
    }
    HeldDirectory.Entry e = parent.entries.get(op.getName());
    if (e == null) {
      throw new RpcException(Status.ENOENT, op.getName());
    }
    if (e.type() != FileType.DIRECTORY) {
      throw new RpcException(Status.ENOTDIR, op.getName() + " is not a directory");
    }
    HeldDirectory child = held.get(e.inode());
    if (child == null) {
      return null;
    }
    if (!child.entries.isEmpty()) {
      throw new RpcException(Status.ENOTEMPTY, op.getName() + " is not empty");
    }
    parent.entries.remove(op.getName());
    held.remove(child.inode);
    heldByPath.remove(child.path, child);
    inodes.remove(child.inode);
    touchDir(parent, op.getNowNs(), -1, nowNs);
    journal.add(request.clone());
    return MetaResponse.newBuilder().setStatus(Status.OK).setChangesListed(true)
        .addChanged(inodes.get(parent.inode).attr).setFreedInode(child.inode)
        .addFreed(child.inode).build();
  }

  private MetaResponse rename(MetaRequest.Builder request, List<MetaRequest.Builder> journal,
      long nowNs) throws RpcException {
    RenameOp op = request.getRename();
    HeldDirectory from = held.get(op.getSrcParent());
    HeldDirectory to = held.get(op.getDstParent());
    Caller caller = request.getCaller();
    if (from == null || to == null || op.getFlags() != 0 || op.getKeepOpen()
        || stickyFor(caller, from) || stickyFor(caller, to)) {
      return null;
    }
    HeldDirectory.Entry src = from.entries.get(op.getSrcName());
    if (src == null) {
      throw new RpcException(Status.ENOENT, op.getSrcName());
    }
    if (from == to && op.getSrcName().equals(op.getDstName())) {
      return null;
    }
    checkName(op.getDstName());
    boolean dir = src.type() == FileType.DIRECTORY;
    HeldDirectory movedDir = dir ? held.get(src.inode()) : null;
    if (dir && movedDir == null) {
      return null; // its ".." and the paths below it change: it must be held (wanted)
    }
    LocalInode moved = inodes.get(src.inode()); // null: a file that existed before
    if (dir && from != to && !outside(to, movedDir)) {
      return null; // into its own subtree: the servers refuse it (EINVAL)
    }
    HeldDirectory.Entry dst = to.entries.get(op.getDstName());
    LocalInode replaced = null;
    HeldDirectory replacedDir = null;
    if (dst != null) {
      replaced = inodes.get(dst.inode()); // null: a file that existed before
      boolean dstDir = dst.type() == FileType.DIRECTORY;
      if (dir && !dstDir) {
        throw new RpcException(Status.ENOTDIR, op.getDstName() + " is not a directory");
      }
      if (!dir && dstDir) {
        throw new RpcException(Status.EISDIR, op.getDstName() + " is a directory");
      }
      if (dstDir) {
        replacedDir = held.get(dst.inode());
        if (replacedDir == null) {
          return null;
        }
        if (!replacedDir.entries.isEmpty()) {
          throw new RpcException(Status.ENOTEMPTY, op.getDstName() + " is not empty");
        }
      }
    }
    long now = op.getNowNs();
    MetaResponse.Builder answer = MetaResponse.newBuilder().setStatus(Status.OK)
        .setChangesListed(true);
    from.entries.remove(op.getSrcName());
    long freed = 0;
    if (dst != null) {
      if (replacedDir != null) {
        held.remove(replacedDir.inode);
        heldByPath.remove(replacedDir.path, replacedDir);
        inodes.remove(replacedDir.inode);
        touchDir(to, now, -1, nowNs);
        freed = replacedDir.inode;
      } else if (replaced != null) {
        freed = dropLink(replaced, now);
        if (freed == 0) {
          answer.addChanged(replaced.attr);
        }
      } else {
        pending.add(dst.inode()); // the servers count its links when they apply this
      }
    }
    to.entries.put(op.getDstName(), src);
    if (moved == null) {
      pending.add(src.inode()); // its new ctime is the servers'
    } else {
      moved.attr = moved.attr.toBuilder().setCtimeNs(now).build();
    }
    if (movedDir != null) {
      moved.coveredBy = movedDir.inode;
      movedDir.parent = to.inode;
      repath(movedDir, to.childPath(op.getDstName()));
    } else if (moved != null) {
      moved.coveredBy = to.inode;
    }
    int nlinkMove = dir && from != to ? 1 : 0;
    touchDir(from, now, -nlinkMove, nowNs);
    if (to != from) {
      touchDir(to, now, nlinkMove, nowNs);
    }
    journal.add(request.clone());
    answer.addChanged(inodes.get(from.inode).attr);
    if (moved != null) {
      answer.addChanged(moved.attr);
    }
    if (to != from) {
      answer.addChanged(inodes.get(to.inode).attr);
    }
    if (freed != 0) {
      answer.setFreedInode(freed).addFreed(freed);
    }
    return answer.build();
  }

  private MetaResponse setAttr(MetaRequest.Builder request, List<MetaRequest.Builder> journal) {
    SetAttrOp op = request.getSetAttr();
    LocalInode i = inodes.get(op.getInode());
    int valid = op.getValid();
    if (i == null || (valid & AttrRules.SET_SIZE) != 0) {
      return null; // a size change touches data: the servers'
    }
    Caller caller = request.getCaller();
    Attr attr = i.attr;
    if ((valid & AttrRules.SET_ACCESSED) != 0) {
      if (valid != AttrRules.SET_ACCESSED) {
        return null;
      }
      long now = op.getNowNs();
      if (attr.getCtimeNs() <= now && Relatime.isDue(attr, now)) {
        i.attr = attr.toBuilder().setAtimeNs(now).build();
      }
      journal.add(request.clone());
      return ok(i.attr).build();
    }
    boolean root = caller.getUid() == 0;
    if (!root && (caller.getUid() != attr.getUid() || (valid & ~OWNER_MAY_SET) != 0)) {
      return null; // the servers' rules for others' and ownership changes
    }
    if (op.hasCommit()) {
      if (op.getCommit().getInode() != op.getInode()) {
        return null;
      }
      attr = committed(attr, op.getCommit());
    }
    if (valid != 0) {
      attr = AttrRules.setAttr(caller, attr, op);
    }
    i.attr = attr;
    journal.add(request.clone());
    return ok(attr).build();
  }

  // ------------------------------------------------------------------ the servers' rules

  private Attr create(Caller caller, HeldDirectory parent, String name, FileType type, int mode,
      int rdev, long ino, long opNowNs, long size, String target, long nowNs) {
    Attr attr = AttrRules.newNode(caller, inodes.get(parent.inode).attr, ino, type, mode, rdev,
        opNowNs).toBuilder().setSize(size).build();
    boolean dir = type == FileType.DIRECTORY;
    parent.entries.put(name, new HeldDirectory.Entry(ino, type));
    if (dir) {
      HeldDirectory made = new HeldDirectory(ino, parent.inode, parent.childPath(name), nowNs);
      held.put(ino, made);
      heldByPath.put(made.path, made);
      inodes.put(ino, new LocalInode(attr, ino, null));
    } else {
      inodes.put(ino, new LocalInode(attr, parent.inode, target));
    }
    touchDir(parent, opNowNs, dir ? 1 : 0, nowNs);
    return attr;
  }

  private void checkNewName(HeldDirectory parent, String name) throws RpcException {
    checkName(name);
    if (parent.entries.containsKey(name)) {
      throw new RpcException(Status.EEXIST, name + " exists");
    }
  }

  private static void checkName(String name) throws RpcException {
    if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0) {
      throw new RpcException(Status.EINVAL, "bad name '" + name + "'");
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
      throw new RpcException(Status.ENAMETOOLONG, "name longer than " + NAME_MAX + " bytes");
    }
  }

  /** Sticky directories: who may remove what is the servers' call, unless root asks. */
  private boolean stickyFor(Caller caller, HeldDirectory dir) {
    return caller.getUid() != 0 && (inodes.get(dir.inode).attr.getMode() & S_ISVTX) != 0;
  }

  /** The inode it freed (its last link went), or 0. */
  private long dropLink(LocalInode child, long now) {
    Attr a = child.attr;
    if (a.getNlink() <= 1) {
      inodes.remove(a.getInode());
      return a.getInode();
    }
    child.attr = a.toBuilder().setNlink(a.getNlink() - 1).setCtimeNs(now).build();
    return 0;
  }

  private void touchDir(HeldDirectory dir, long opNowNs, int nlinkDelta, long nowNs) {
    LocalInode i = inodes.get(dir.inode);
    i.attr = AttrRules.touched(i.attr, opNowNs).toBuilder()
        .setNlink(i.attr.getNlink() + nlinkDelta).build();
    dir.lastUsedNs = nowNs;
  }

  private void touchUse(long dir, long nowNs) {
    HeldDirectory d = held.get(dir);
    if (d != null) {
      d.lastUsedNs = nowNs;
    }
  }

  private static Attr committed(Attr attr, CommitWriteOp op) {
    return AttrRules.committed(attr, op.getEndOffset(), op.getNowNs());
  }

  /** Whether held directory {@code dir} lies outside {@code moved} (by their paths here). */
  private static boolean outside(HeldDirectory dir, HeldDirectory moved) {
    return !dir.path.equals(moved.path) && !dir.path.startsWith(moved.path + "/");
  }

  /** A held directory moved: its path and every held path below it change. */
  private void repath(HeldDirectory moved, String newPath) {
    String oldPrefix = moved.path;
    List<HeldDirectory> below = new ArrayList<>();
    heldByPath.forEach((p, d) -> {
      if (p.equals(oldPrefix) || p.startsWith(oldPrefix + "/")) {
        below.add(d);
      }
    });
    for (HeldDirectory d : below) {
      heldByPath.remove(d.path, d);
      d.path = newPath + d.path.substring(oldPrefix.length());
    }
    below.forEach(d -> heldByPath.put(d.path, d));
  }

  private static MetaResponse.Builder ok(Attr attr) {
    return MetaResponse.newBuilder().setStatus(Status.OK).setAttr(attr).setChangesListed(true);
  }

  static String parentOf(String path) {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? "/" : path.substring(0, slash);
  }

}
