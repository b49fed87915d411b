package io.shoalfs.client;

import io.shoalfs.fs.XattrNamespaces;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.AppendOp;
import io.shoalfs.client.writeback.WriteBack;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.LinkOp;
import io.shoalfs.proto.ListXattrOp;
import io.shoalfs.proto.LockKind;
import io.shoalfs.proto.LockRange;
import io.shoalfs.proto.LockType;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.NamespaceStatsOp;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.ReadLinkOp;
import io.shoalfs.proto.ReleaseOrphanOp;
import io.shoalfs.proto.RemoveXattrOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.SetXattrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SymlinkOp;
import io.shoalfs.proto.UnlinkOp;
import io.shoalfs.rpc.RpcException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import jnr.ffi.Pointer;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Flock;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The ShoalFS mount: POSIX calls from the kernel, as metadata and data requests on a
 * {@link ShoalTransport}. Every callback runs through {@link FuseCall}, so it returns 0, a byte
 * count or a negative errno and never throws into native code. The work itself lives in small
 * helpers (path resolution, chunked I/O, write commits, truncation); this class unpacks FUSE's
 * arguments and packs the answers.
 *
 * <p>Unlinking does not delete file data: the server's garbage collector reclaims the data of
 * inodes whose last link went away.
 */
public final class ShoalFuse extends FuseStubFS implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShoalFuse.class);
  private static final int O_EXCL = 0200;
  private static final int F_GETLK = 5;
  private static final int F_SETLKW = 7;
  private static final int LOCK_EX = 2;
  private static final int LOCK_NB = 4;
  private static final int LOCK_UN = 8;
  private static final int FALLOC_FL_KEEP_SIZE = 1;
  private static final int NAME_MAX = 255;
  /** Bit 2 of struct fuse_operations' flag word (little-endian bit-field order). */
  private static final int UTIME_OMIT_OK_BIT = 1 << 2;
  /** There is no inode limit; statfs reports this many free so that df -i shows a use. */
  private static final long FREE_INODES = 1L << 32;

  private final ShoalFuseConfig config;
  private final FuseCall calls = new FuseCall();
  private final MetaClient meta;
  private final DataClient data;
  private final ChunkLocations locations;
  private final ChunkedIo io;
  private final FileHandleTable handles = new FileHandleTable();
  private final Resolver resolver;
  private final Truncator truncator;
  private final WriteCommitter committer;
  private final WriteBehind writeBehind;
  private final AccessNotes accessNotes;
  private final ReaddirPlus readdirPlus = new ReaddirPlus();
  private final CallerGroups callerGroups = new CallerGroups();
  private final HiddenFiles hidden = new HiddenFiles();
  private final LockClient locks;
  private final ReadAhead readAhead;
  private final ShortCircuitReads shortCircuit;

  /** A mount with a random client id. The transport stays the caller's to close. */
  public ShoalFuse(ShoalTransport transport, ShoalFuseConfig config) {
    this(transport, config, randomClientId());
  }

  /** A mount with the given client id (non-zero, unique among the cluster's clients). */
  public ShoalFuse(ShoalTransport transport, ShoalFuseConfig config, long clientId) {
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
    acceptUtimeOmit();
  }

  /**
   * Sets libfuse 2.9's flag_utime_omit_ok: without it libfuse drops a setattr that changes only
   * one of atime and mtime (utimensat with UTIME_OMIT, `touch -a`, `touch -m`), and this
   * mount's utimens understands UTIME_OMIT and UTIME_NOW. The flags are one C bit-field word
   * (nullpath_ok, nopath, utime_omit_ok, ...) that jnr-fuse declares as four padding bytes.
   */
  private void acceptUtimeOmit() {
    try {
      // offset() is public on a class jnr-ffi keeps package-private.
      Object flags = fuseOperations.getClass().getField("flag_nullpath_ok").get(fuseOperations);
      java.lang.reflect.Method offsetOf =
          Class.forName("jnr.ffi.Struct$AbstractMember").getDeclaredMethod("offset");
      offsetOf.setAccessible(true);
      int offset = ((Number) offsetOf.invoke(flags)).intValue();
      jnr.ffi.Pointer ops = jnr.ffi.Struct.getMemory(fuseOperations);
      ops.putByte(offset, (byte) (ops.getByte(offset) | UTIME_OMIT_OK_BIT));
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("cannot set flag_utime_omit_ok; touch -a/-m will be ignored: {}", e.toString());
    }
  }

  // ------------------------------------------------------------------ mount lifecycle

  /** Mounts with the configured -o options; {@code blocking} returns only on unmount. */
  public void mount(Path mountPoint, boolean blocking, boolean debug) {
    meta.startSession();
    mount(mountPoint, blocking, debug, config.mountOptions().toArgs());
  }

  /** Unmounts (idempotent); a blocking {@link #mount} then returns. */
  @Override
  public void close() {
    umount();
    writeBehind.close();
    accessNotes.close();
    locks.close();
    shortCircuit.close();
    meta.closeSession();
  }

  public long clientId() {
    return meta.clientId();
  }

  /** Calls, failures and time spent, by callback name. */
  public Map<String, FuseCall.OpStats> stats() {
    return calls.stats();
  }

  @Override
  protected String getFSName() {
    return "shoalfs";
  }

  // ------------------------------------------------------------------ attributes

  @Override
  public int getattr(String path, FileStat stat) {
    return calls.run("getattr", path, () -> {
      fillStat(stat, hidden.asLibfuseSees(path, resolver.attr(caller(), path)));
      return 0;
    });
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    return calls.run("fgetattr", path, () -> {
      Caller caller = caller();
      long fh = fi.fh.get();
      // By handle: an open file stays reachable after its name is unlinked.
      Attr attr = fh != 0
          ? meta.cachedAttr(caller, handles.get(fh).inode())
          : resolver.attr(caller, path);
      fillStat(stat, path == null ? attr : hidden.asLibfuseSees(path, attr));
      return 0;
    });
  }

  @Override
  public int access(String path, int mask) {
    // Existence only (F_OK); permission checks are the kernel's (default_permissions) for now.
    return calls.run("access", path, () -> {
      resolver.attr(caller(), path);
      return 0;
    });
  }

  @Override
  public int chmod(String path, @mode_t long mode) {
    return calls.run("chmod", path, () -> setAttr(path, SetAttrOp.newBuilder()
        .setValid(SetAttrBits.MODE)
        .setMode((int) mode & FileStats.PERMISSION_BITS)));
  }

  @Override
  public int chown(String path, @uid_t long uid, @gid_t long gid) {
    return calls.run("chown", path, () -> {
      SetAttrOp.Builder op = SetAttrOp.newBuilder();
      int valid = 0;
      if (!isUnchanged(uid)) {
        valid |= SetAttrBits.UID;
        op.setUid((int) uid);
      }
      if (!isUnchanged(gid)) {
        valid |= SetAttrBits.GID;
        op.setGid((int) gid);
      }
      return valid == 0 ? 0 : setAttr(path, op.setValid(valid));
    });
  }

  @Override
  public int utimens(String path, Timespec[] timespec) {
    return calls.run("utimens", path, () -> {
      long nowNs = FuseTimes.nowNs();
      SetAttrOp.Builder op = timespec == null || timespec.length < 2
          ? FuseTimes.utimens(0, 0, FuseTimes.UTIME_NOW, 0, FuseTimes.UTIME_NOW, nowNs)
          : FuseTimes.utimens(0,
              timespec[0].tv_sec.get(), timespec[0].tv_nsec.longValue(),
              timespec[1].tv_sec.get(), timespec[1].tv_nsec.longValue(), nowNs);
      return op.getValid() == 0 ? 0 : setAttr(path, op);
    });
  }

  @Override
  public int truncate(String path, @off_t long size) {
    return calls.run("truncate", path, () -> {
      Caller caller = caller();
      return resolver.withInode(caller, path, inode -> {
        writeBehind.drainInode(inode);
        truncator.truncate(caller, inode, size);
        written(inode);
        return 0;
      });
    });
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    return calls.run("ftruncate", path, () -> {
      long inode = handles.get(fi.fh.get()).inode();
      writeBehind.drainInode(inode);
      truncator.truncate(caller(), inode, size);
      written(inode);
      return 0;
    });
  }

  /**
   * fallocate(2) mode 0 grows the file to offset + length (ShoalFS reserves no space ahead: a
   * later write may still meet ENOSPC); FALLOC_FL_KEEP_SIZE changes nothing. Punching holes and
   * zeroing ranges are not supported (EOPNOTSUPP, as on file systems without them).
   */
  @Override
  public int fallocate(String path, int mode, @off_t long offset, @off_t long length,
      FuseFileInfo fi) {
    return calls.run("fallocate", path, () -> {
      if (offset < 0 || length <= 0) {
        throw new RpcException(Status.EINVAL, "bad fallocate range");
      }
      if (mode == FALLOC_FL_KEEP_SIZE) {
        return 0;
      }
      if (mode != 0) {
        throw new RpcException(Status.ENOTSUP, "fallocate mode " + mode + " is not supported");
      }
      Caller caller = caller();
      OpenFile file = handles.get(fi.fh.get());
      long inode = file.inode();
      writeBehind.drainInode(inode);
      for (OpenFile open : handles.openFiles(inode)) {
        committer.commit(open);
      }
      long end = Math.addExact(offset, length);
      if (end > meta.getAttr(caller, inode).getSize()) {
        truncator.truncate(caller, inode, end);
        written(inode);
      }
      return 0;
    });
  }

  // ------------------------------------------------------------------ namespace

  @Override
  public int mkdir(String path, @mode_t long mode) {
    return calls.run("mkdir", path, () -> {
      makeNode(caller(), path, FileType.DIRECTORY, mode, 0, false);
      return 0;
    });
  }

  @Override
  public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
    return calls.run("mknod", path, () -> {
      makeNode(caller(), path, FileStats.typeOf(mode), mode, rdev, false);
      return 0;
    });
  }

  @Override
  public int symlink(String target, String path) {
    return calls.run("symlink", path, () -> {
      Caller caller = caller();
      FusePath p = FusePath.of(path);
      Attr attr = resolver.withInode(caller, p.parent(), parent -> meta.mutateIn(caller,
          p.parent(), null, MetaRequest.newBuilder().setSymlink(SymlinkOp.newBuilder()
              .setParent(parent)
              .setName(p.name())
              .setTarget(target)
              .setNowNs(FuseTimes.nowNs()))).getAttr());
      resolver.created(path, attr.getInode());
      return 0;
    });
  }

  @Override
  public int readlink(String path, Pointer buf, @size_t long size) {
    return calls.run("readlink", path, () -> {
      Caller caller = caller();
      String target = resolver.withInode(caller, path, inode -> meta.call(caller,
          MetaRequest.newBuilder().setReadLink(ReadLinkOp.newBuilder().setInode(inode)))
          .getTarget());
      if (size <= 0) {
        return 0;
      }
      // readlink(2) truncates silently; FUSE wants the result NUL-terminated within size.
      byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
      int n = (int) Math.min(bytes.length, size - 1);
      buf.put(0, bytes, 0, n);
      buf.putByte(n, (byte) 0);
      return 0;
    });
  }

  @Override
  public int link(String existing, String path) {
    return calls.run("link", path, () -> {
      Caller caller = caller();
      FusePath p = FusePath.of(path);
      Attr attr = resolver.withInode(caller, existing, inode ->
          resolver.withInode(caller, p.parent(), parent -> meta.call(caller,
              MetaRequest.newBuilder().setLink(LinkOp.newBuilder()
                  .setInode(inode)
                  .setNewParent(parent)
                  .setNewName(p.name())
                  .setNowNs(FuseTimes.nowNs()))).getAttr()));
      resolver.created(path, attr.getInode());
      return 0;
    });
  }

  @Override
  public int unlink(String path) {
    return calls.run("unlink", path, () -> {
      Caller caller = caller();
      hidden.forgetJustHidden(getContext().pid.get());
      Long orphan = hidden.remove(path);
      if (orphan != null) {
        // libfuse unlinks a hidden name at its node's last close; other handles of the inode
        // (through other names) may still be open here: then the last of them releases it.
        if (handles.openFiles(orphan).isEmpty()) {
          releaseOrphan(caller, orphan);
        } else {
          hidden.releaseLater(orphan);
        }
        return 0;
      }
      FusePath p = FusePath.of(path);
      boolean keepOpen = isOpenHere(caller, path);
      try {
        MetaResponse r = resolver.withInode(caller, p.parent(), parent -> meta.mutateIn(caller,
            p.parent(), null, MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder()
                .setParent(parent)
                .setName(p.name())
                .setKeepOpen(keepOpen)
                .setNowNs(FuseTimes.nowNs()))));
        logFreed(path, r);
      } finally {
        resolver.cache().invalidate(path);
      }
      return 0;
    });
  }

  @Override
  public int rmdir(String path) {
    return calls.run("rmdir", path, () -> {
      Caller caller = caller();
      FusePath p = FusePath.of(path);
      try {
        MetaResponse r = resolver.withInode(caller, p.parent(), parent -> meta.mutateIn(caller,
            p.parent(), null, MetaRequest.newBuilder().setRmdir(RmdirOp.newBuilder()
                .setParent(parent)
                .setName(p.name())
                .setNowNs(FuseTimes.nowNs()))));
        logFreed(path, r);
      } finally {
        resolver.cache().invalidateTree(path);
      }
      return 0;
    });
  }

  @Override
  public int rename(String oldpath, String newpath) {
    return calls.run("rename", oldpath, () -> {
      Caller caller = caller();
      HiddenFiles.Hidden justHidden = hidden.takeJustHidden(getContext().pid.get());
      if (HiddenFiles.isHiddenName(newpath) && !HiddenFiles.isHiddenName(oldpath)
          && isOpenHere(caller, oldpath)) {
        hide(caller, oldpath, newpath);
        return 0;
      }
      if (justHidden != null && justHidden.path().equals(newpath)
          && resolver.attr(caller, oldpath).getInode() == justHidden.inode()) {
        // rename(a, b) between two links of one inode, b open here: libfuse hid b first. POSIX
        // says such a rename does nothing: give b its link back, keep a.
        relink(caller, justHidden.inode(), newpath);
        return 0;
      }
      FusePath src = FusePath.of(oldpath);
      FusePath dst = FusePath.of(newpath);
      boolean keepTarget = isOpenHereIfExists(caller, newpath);
      try {
        MetaResponse r = resolver.withInode(caller, src.parent(), srcParent ->
            resolver.withInode(caller, dst.parent(), dstParent -> meta.mutateIn(caller,
                src.parent(), dst.parent(), MetaRequest.newBuilder().setRename(RenameOp.newBuilder()
                    .setSrcParent(srcParent)
                    .setSrcName(src.name())
                    .setDstParent(dstParent)
                    .setDstName(dst.name())
                    .setKeepOpen(keepTarget)
                    .setNowNs(FuseTimes.nowNs())))));
        logFreed(newpath, r);
      } finally {
        // Everything cached below either name may now be elsewhere or gone.
        resolver.cache().invalidateTree(oldpath);
        resolver.cache().invalidateTree(newpath);
      }
      return 0;
    });
  }

  /**
   * libfuse hides a file that is removed (or renamed over) while open here by renaming it to a
   * ".fuse_hidden" name: remove the entry for real instead, keeping the inode as this mount's
   * orphan, and answer for the hidden path until libfuse unlinks it at the last close.
   */
  private void hide(Caller caller, String path, String hiddenPath) throws RpcException {
    FusePath p = FusePath.of(path);
    long inode = resolver.attr(caller, path).getInode();
    try {
      resolver.withInode(caller, p.parent(), parent -> meta.call(caller,
          MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder()
              .setParent(parent)
              .setName(p.name())
              .setKeepOpen(true)
              .setNowNs(FuseTimes.nowNs()))));
      hidden.hide(path, hiddenPath, inode, getContext().pid.get());
    } finally {
      resolver.cache().invalidate(path);
    }
  }

  private void relink(Caller caller, long inode, String path) throws RpcException {
    FusePath p = FusePath.of(path);
    Attr attr = resolver.withInode(caller, p.parent(), parent -> meta.call(caller,
        MetaRequest.newBuilder().setLink(LinkOp.newBuilder()
            .setInode(inode)
            .setNewParent(parent)
            .setNewName(p.name())
            .setNowNs(FuseTimes.nowNs()))).getAttr());
    resolver.created(path, attr.getInode());
  }

  /**
   * Whether the file at {@code path} is open on this mount. libfuse hides only files open
   * through that name; a handle may also be open through a hidden name (a file whose other
   * link is removed now must stay for that handle).
   */
  private boolean isOpenHere(Caller caller, String path) throws RpcException {
    if (handles.openCount() == 0) {
      return false;
    }
    return !handles.openFiles(resolver.attr(caller, path).getInode()).isEmpty();
  }

  private boolean isOpenHereIfExists(Caller caller, String path) throws RpcException {
    try {
      return isOpenHere(caller, path);
    } catch (RpcException e) {
      if (e.status() == Status.ENOENT) {
        return false;
      }
      throw e;
    }
  }

  private void releaseOrphan(Caller caller, long inode) throws RpcException {
    MetaResponse r = meta.call(caller, MetaRequest.newBuilder()
        .setReleaseOrphan(ReleaseOrphanOp.newBuilder().setInode(inode)));
    LOG.debug("closed orphan inode {} (freed: {})", inode, r.getFreedInode() != 0);
  }

  // ------------------------------------------------------------------ directories

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return calls.run("opendir", path, () -> {
      Caller caller = caller();
      Attr attr = resolver.attr(caller, path);
      if (attr.getType() != FileType.DIRECTORY) {
        throw new RpcException(Status.ENOTDIR, path);
      }
      fi.fh.set(handles.open(attr.getInode(), fi.flags.get(), caller).fh());
      return 0;
    });
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset,
      FuseFileInfo fi) {
    return calls.run("readdir", path, () -> {
      Caller caller = caller();
      long fh = fi.fh.get();
      long inode = fh != 0
          ? handles.get(fh).inode()
          : resolver.withInode(caller, path, ino -> ino);
      // Offset 0 everywhere: libfuse buffers the whole listing, so the kernel's own offsets
      // are never passed back to us.
      if (filter.apply(buf, ".", null, 0) != 0 || filter.apply(buf, "..", null, 0) != 0) {
        return 0;
      }
      // Each entry's type and inode (d_type, d_ino with use_ino): find, rm -r, ls --color
      // learn what is a directory without a lookup and getattr per entry.
      FileStat entryStat = new FileStat(jnr.ffi.Runtime.getSystemRuntime());
      String after = "";
      // A held directory answers its names' lookups here, and has no attributes to give for
      // the names it did not make: attributes in its listing only cost (measured: the first
      // listing of 1000 names took 4-6x the next ones).
      boolean withAttrs = !meta.writeBack().holdsDirectory(inode) && readdirPlus.withAttrs(inode);
      while (true) {
        long generation = resolver.cache().generation();
        MetaResponse page = meta.call(caller, MetaRequest.newBuilder().setReadDir(
            ReadDirOp.newBuilder()
                .setInode(inode)
                .setStartAfter(after)
                .setLimit(config.readDirPageSize())
                .setWithAttrs(withAttrs)));
        // readdirplus: the lookup and getattr the kernel sends next for each name (ls -l,
        // find, tar, rm -r) are answered from here while the caches hold them.
        if (withAttrs) {
          resolver.listed(path, page, generation);
        }
        for (DirEntry entry : page.getEntriesList()) {
          entryStat.st_mode.set(FileStats.entryMode(entry.getType()));
          entryStat.st_ino.set(entry.getInode());
          if (filter.apply(buf, entry.getName(), entryStat, 0) != 0) {
            return 0; // the buffer is full
          }
        }
        if (!page.getHasMore() || page.getEntriesCount() == 0) {
          return 0;
        }
        after = page.getEntries(page.getEntriesCount() - 1).getName();
      }
    });
  }

  @Override
  public int fsyncdir(String path, FuseFileInfo fi) {
    // A namespace change answered by the servers is durable; one answered here is once the
    // journal that carries it is applied.
    return calls.run("fsyncdir", path, () -> {
      meta.writeBack().flush();
      reportJournalFailure();
      return 0;
    });
  }

  /** A journaled operation the servers refused since the last report fails this call (EIO). */
  private void reportJournalFailure() throws RpcException {
    RpcException failure = meta.writeBack().takeFailure();
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public int releasedir(String path, FuseFileInfo fi) {
    return calls.run("releasedir", path, () -> {
      handles.release(fi.fh.get());
      return 0;
    });
  }

  // ------------------------------------------------------------------ files

  @Override
  public int create(String path, @mode_t long mode, FuseFileInfo fi) {
    return calls.run("create", path, () -> {
      Caller caller = caller();
      int flags = fi.flags.get();
      Attr attr;
      try {
        // Created to be written: chunk 0 is placed in the create's own log entry, so the
        // first write finds its location here instead of allocating it.
        MetaResponse made = makeNode(caller, path, FileType.REGULAR, mode, 0, true);
        attr = made.getAttr();
        locations.created(attr.getInode());
        locations.remember(made.getLocationsList());
      } catch (RpcException e) {
        // Someone else created it since the kernel looked: without O_EXCL, open theirs.
        if (e.status() != Status.EEXIST || (flags & O_EXCL) != 0) {
          throw e;
        }
        attr = resolver.attr(caller, path);
        locations.forget(attr.getInode());
      }
      fi.fh.set(handles.open(attr.getInode(), flags, caller).fh());
      return 0;
    });
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    return calls.run("open", path, () -> {
      Caller caller = caller();
      hidden.forgetJustHidden(getContext().pid.get());
      // The name resolved afresh, not a cached inode: close-to-open (another mount may have
      // renamed or removed it), and writes to an inode deleted meanwhile would vanish.
      MetaResponse now = resolver.resolveNow(caller, path, ChunkLocations.LOOKAHEAD);
      Attr attr = now.getAttr();
      // Close-to-open: this open sees where the file's chunks are now (the first few came
      // with the resolve). A file held here is nobody else's: what this mount knows is current.
      if (!meta.writeBack().holdsLocally(attr.getInode())) {
        locations.forget(attr.getInode());
        locations.remember(now.getLocationsList());
      }
      fi.fh.set(handles.open(attr.getInode(), fi.flags.get(), caller).fh());
      return 0;
    });
  }

  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    return calls.run("read", path, () -> {
      OpenFile file = handles.get(fi.fh.get());
      Caller caller = caller();
      long inode = file.inode();
      if (file.firstRead()) {
        accessNotes.readStarted(caller, inode);
      }
      // Drains this mount's pending writes to the inode first: a read sees every write before it.
      return readAhead.read(file, offset, (int) Math.min(size, Integer.MAX_VALUE), buf,
          () -> handles.effectiveSize(inode, meta.cachedAttr(caller, inode).getSize()));
    });
  }

  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    return calls.run("write", path, () -> {
      OpenFile file = handles.get(fi.fh.get());
      int n = (int) Math.min(size, Integer.MAX_VALUE);
      if (file.isAppend() || file.isSync()) {
        // Straight through, after whatever any handle of the file still buffers.
        writeBehind.drainInode(file.inode());
      }
      if (file.isAppend()) {
        appendWrite(file, buf, n);
      } else if (file.isSync()) {
        io.write(file.inode(), offset, buf, n, true);
        file.recordWrite(offset + n);
      } else {
        writeBehind.write(file, offset, buf, n);
        file.recordWrite(offset + n);
      }
      written(file.inode());
      if (file.isSync()) {
        committer.commit(file);
      }
      return n;
    });
  }

  /**
   * O_APPEND: the metadata service reserves the bytes at the end in one step, so appenders on
   * this and other mounts never write at the same offset. Writes of this mount that the
   * metadata does not know yet are committed first, so the end lies past them.
   */
  private void appendWrite(OpenFile file, Pointer buf, int n) throws RpcException {
    long inode = file.inode();
    for (OpenFile other : handles.openFiles(inode)) {
      committer.commit(other);
    }
    long at = meta.call(file.opener(), MetaRequest.newBuilder().setAppend(AppendOp.newBuilder()
        .setInode(inode)
        .setLength(n)
        .setNowNs(FuseTimes.nowNs()))).getOffset();
    io.write(inode, at, buf, n, file.isSync());
  }

  // ------------------------------------------------------------------ locks

  @Override
  public int lock(String path, FuseFileInfo fi, int cmd, Flock flock) {
    return calls.run("lock", path, () -> {
      long inode = handles.get(fi.fh.get()).inode();
      long owner = fi.lock_owner.get();
      long start = flock.l_start.get();
      long len = flock.l_len.get();
      long end = len <= 0 ? 0 : start + len; // libfuse hands absolute ranges; 0 = to EOF
      LockType type = lockType(flock.l_type.get());
      if (cmd == F_GETLK) {
        LockRange c = locks.conflict(caller(), inode, LockKind.POSIX, owner, type, start, end);
        if (c == null) {
          flock.l_type.set(Flock.F_UNLCK);
        } else {
          flock.l_type.set(c.getType() == LockType.WRITE_LOCK ? Flock.F_WRLCK : Flock.F_RDLCK);
          flock.l_whence.set(0);
          flock.l_start.set(c.getStart());
          flock.l_len.set(c.getEnd() == 0 ? 0 : c.getEnd() - c.getStart());
          flock.l_pid.set(c.getPid());
        }
        return 0;
      }
      int pid = (int) getContext().pid.get();
      locks.set(caller(), inode, LockKind.POSIX, owner, type, start, end, pid, cmd == F_SETLKW,
          waiterAlive(fi.fh.get(), pid));
      return 0;
    });
  }

  @Override
  public int flock(String path, FuseFileInfo fi, int op) {
    return calls.run("flock", path, () -> {
      LockType type = (op & LOCK_UN) != 0 ? LockType.UNLOCK
          : (op & LOCK_EX) != 0 ? LockType.WRITE_LOCK : LockType.READ_LOCK;
      OpenFile file = handles.find(fi.fh.get());
      if (file == null) {
        if (type == LockType.UNLOCK) {
          return 0; // released with its handle already
        }
        throw new RpcException(Status.EBADF, "no open handle " + fi.fh.get());
      }
      long owner = fi.lock_owner.get();
      int pid = (int) getContext().pid.get();
      locks.set(caller(), file.inode(), LockKind.FLOCK, owner, type, 0, 0, pid,
          (op & LOCK_NB) == 0, waiterAlive(fi.fh.get(), pid));
      file.flockedAs(type == LockType.UNLOCK ? 0 : owner);
      return 0;
    });
  }

  /** A flock belongs to the open file: it goes with the handle's release. */
  private void releaseFlock(OpenFile file) throws RpcException {
    long owner = file.flockOwner();
    if (owner != 0) {
      locks.set(file.opener(), file.inode(), LockKind.FLOCK, owner, LockType.UNLOCK, 0, 0, 0,
          false, () -> false);
    }
  }

  /** A blocked lock request is still wanted while its handle is open and its process lives. */
  private java.util.function.BooleanSupplier waiterAlive(long fh, int pid) {
    return () -> handles.find(fh) != null && LockClient.isLiveProcess(pid);
  }

  private static LockType lockType(int fcntlType) {
    if (fcntlType == Flock.F_RDLCK) {
      return LockType.READ_LOCK;
    }
    return fcntlType == Flock.F_WRLCK ? LockType.WRITE_LOCK : LockType.UNLOCK;
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    return calls.run("flush", path, () -> {
      committer.commit(handles.get(fi.fh.get()));
      reportJournalFailure();
      return 0;
    });
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    return calls.run("fsync", path, () -> {
      committer.fsync(handles.get(fi.fh.get()));
      // Everything this mount did before is durable: its journal too.
      meta.writeBack().flush();
      reportJournalFailure();
      return 0;
    });
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return calls.run("release", path, () -> {
      long fh = fi.fh.get();
      OpenFile file = handles.get(fh);
      try {
        committer.commit(file);
      } finally {
        writeBehind.discard(file);
        readAhead.release(fh);
        handles.release(fh);
        releaseFlock(file);
        if (handles.openFiles(file.inode()).isEmpty() && hidden.takeReleaseLater(file.inode())) {
          releaseOrphan(file.opener(), file.inode());
        }
      }
      return 0;
    });
  }

  // ------------------------------------------------------------------ filesystem

  @Override
  public int statfs(String path, Statvfs st) {
    return calls.run("statfs", path, () -> {
      DataResponse space = data.statFs();
      long inodes = meta.call(caller(), MetaRequest.newBuilder()
          .setNamespaceStats(NamespaceStatsOp.getDefaultInstance())).getInodeCount();
      st.f_bsize.set(FileStats.BLOCK_SIZE);
      st.f_frsize.set(FileStats.BLOCK_SIZE);
      st.f_blocks.set(space.getTotalBytes() / FileStats.BLOCK_SIZE);
      st.f_bfree.set(space.getFreeBytes() / FileStats.BLOCK_SIZE);
      st.f_bavail.set(space.getFreeBytes() / FileStats.BLOCK_SIZE);
      st.f_files.set(inodes + FREE_INODES);
      st.f_ffree.set(FREE_INODES);
      st.f_favail.set(FREE_INODES);
      st.f_namemax.set(NAME_MAX);
      return 0;
    });
  }

  // ------------------------------------------------------------------ extended attributes

  @Override
  public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
    return calls.run("setxattr", path, () -> {
      refuseUnstoredXattr(name);
      byte[] bytes = new byte[(int) size];
      if (size > 0) {
        value.get(0, bytes, 0, bytes.length);
      }
      Caller caller = caller();
      resolver.withInode(caller, path, inode -> meta.call(caller, MetaRequest.newBuilder()
          .setSetXattr(SetXattrOp.newBuilder()
              .setInode(inode)
              .setName(name)
              .setValue(com.google.protobuf.ByteString.copyFrom(bytes))
              .setFlags(flags)
              .setNowNs(FuseTimes.nowNs()))));
      return 0;
    });
  }

  @Override
  public int getxattr(String path, String name, Pointer value, @size_t long size) {
    return calls.run("getxattr", path, () -> {
      if (path.equals("/") && name.equals(ShortCircuitCounters.XATTR)) {
        // The mount's own figures, not stored anywhere: how tests and operators see them.
        byte[] figures = shortCircuit.counters().format(shortCircuit.enabled())
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return XattrBuffers.copyOut(figures, value, size);
      }
      if (path.equals("/") && name.equals(WriteBack.CAPABILITIES_XATTR)) {
        byte[] figures = meta.writeBack().capabilityFigures()
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return XattrBuffers.copyOut(figures, value, size);
      }
      refuseUnstoredXattr(name);
      Caller caller = caller();
      byte[] bytes = resolver.withInode(caller, path, inode -> meta.getXattr(caller, inode, name));
      return XattrBuffers.copyOut(bytes, value, size);
    });
  }

  @Override
  public int listxattr(String path, Pointer list, @size_t long size) {
    return calls.run("listxattr", path, () -> {
      Caller caller = caller();
      byte[] names = XattrBuffers.nameList(resolver.withInode(caller, path, inode ->
          meta.call(caller, MetaRequest.newBuilder().setListXattr(
              ListXattrOp.newBuilder().setInode(inode))).getNamesList()));
      return XattrBuffers.copyOut(names, list, size);
    });
  }

  @Override
  public int removexattr(String path, String name) {
    return calls.run("removexattr", path, () -> {
      refuseUnstoredXattr(name);
      Caller caller = caller();
      resolver.withInode(caller, path, inode -> meta.call(caller, MetaRequest.newBuilder()
          .setRemoveXattr(RemoveXattrOp.newBuilder()
              .setInode(inode)
              .setName(name)
              .setNowNs(FuseTimes.nowNs()))));
      return 0;
    });
  }

  /**
   * Answers here what the server would answer for a name it never stores: `cp -a` tries
   * system.posix_acl_access on every file, and the kernel asks security.capability on writes.
   */
  private static void refuseUnstoredXattr(String name) throws RpcException {
    Status status = XattrNamespaces.check(name);
    if (status != Status.OK) {
      throw new RpcException(status, "xattr " + name + " is not stored by ShoalFS");
    }
  }

  // ------------------------------------------------------------------ helpers

  private Caller caller() {
    FuseContext ctx = getContext();
    int uid = (int) ctx.uid.get();
    int gid = (int) ctx.gid.get();
    return Caller.newBuilder()
        .setUid(uid)
        .setGid(gid)
        .addAllGroups(callerGroups.of(ctx.pid.get(), uid, gid))
        .build();
  }

  /**
   * The data of {@code inode} changed through this mount: read-ahead drops what it prefetched,
   * and an explicit mtime a handle holds is overtaken by the change.
   */
  private void written(long inode) {
    readAhead.written(inode);
    handles.written(inode);
  }

  private void fillStat(FileStat stat, Attr attr) throws RpcException {
    FileStats.fill(stat, accessNotes.shown(handles.shown(attr)),
        handles.effectiveSize(attr.getInode(), attr.getSize()));
  }

  /** {@code firstChunk}: place chunk 0 with the file (MakeNodeOp.first_chunk). */
  private MetaResponse makeNode(Caller caller, String path, FileType type, long mode, long rdev,
      boolean firstChunk) throws RpcException {
    hidden.forgetJustHidden(getContext().pid.get());
    FusePath p = FusePath.of(path);
    MakeNodeOp.Builder op = MakeNodeOp.newBuilder()
        .setName(p.name())
        .setType(type)
        .setMode((int) mode & FileStats.PERMISSION_BITS)
        .setRdev((int) rdev)
        .setNowNs(FuseTimes.nowNs());
    if (firstChunk) {
      op.setFirstChunk(AllocateChunkOp.getDefaultInstance());
    }
    // A directory this mount makes is its own until another mount looks (a capability): what
    // is done in it next is done here and journaled.
    op.setTakeCapability(type == FileType.DIRECTORY && meta.writeBack().enabled());
    MetaResponse made = resolver.withInode(caller, p.parent(), parent -> {
      MetaResponse r = meta.mutateIn(caller, p.parent(), null,
          MetaRequest.newBuilder().setMakeNode(op.setParent(parent)));
      if (r.getCapabilityGranted()) {
        meta.writeBack().madeDirectory(path, r.getAttr(), parent);
      }
      return r;
    });
    resolver.created(path, made.getAttr().getInode());
    return made;
  }

  private int setAttr(String path, SetAttrOp.Builder op) throws RpcException {
    Caller caller = caller();
    op.setNowNs(FuseTimes.nowNs());
    // `cp -a` writes, sets the times, then closes: what this mount has not committed yet is
    // committed with the setattr, not after it (a later commit would move mtime).
    resolver.withInode(caller, path,
        inode -> committer.setAttr(caller, op.setInode(inode), handles.openFiles(inode)));
    return 0;
  }

  /** chown(2) leaves an id alone when it is -1 (as a 32-bit or as a sign-extended value). */
  static boolean isUnchanged(long id) {
    return id == -1 || (id & 0xFFFF_FFFFL) == 0xFFFF_FFFFL;
  }

  private static void logFreed(String path, MetaResponse response) {
    if (response.getFreedInode() != 0) {
      // Nothing to do here: the server's garbage collector reclaims the data.
      LOG.debug("{}: inode {} lost its last link", path, response.getFreedInode());
    }
  }

  static long randomClientId() {
    long id;
    do {
      id = new SecureRandom().nextLong();
    } while (id == 0);
    return id;
  }
}
