package io.shoalfs.client;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.LockRange;
import io.shoalfs.proto.LockType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 * The ShoalFS mount: the kernel's FUSE callbacks, translated into calls on a
 * {@link MountFileSystem}, which holds all of the file system's logic. Every callback runs
 * through {@link FuseCall}, so it returns 0, a byte count or a negative errno and never throws
 * into native code. This class only unpacks jnr-fuse's arguments (paths, the request's caller,
 * the handle in {@code fi.fh}, native buffers) and packs the answers ({@code struct stat},
 * {@code statvfs}, {@code struct flock}, directory entries, readlink's buffer).
 */
public final class ShoalFuse extends FuseStubFS implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShoalFuse.class);
  private static final int F_GETLK = 5;
  private static final int F_SETLKW = 7;
  /** Bit 2 of struct fuse_operations' flag word (little-endian bit-field order). */
  private static final int UTIME_OMIT_OK_BIT = 1 << 2;

  private final ShoalFuseConfig config;
  private final FuseCall calls = new FuseCall();
  private final MountFileSystem fs;
  private final MountAttributes attributes;
  private final MountNamespace namespace;
  private final MountDirectories directories;
  private final MountFiles files;
  private final MountLocks locks;
  private final MountXattrs xattrs;
  private final CallerGroups callerGroups = new CallerGroups();
  /** The caller of the request being served, read from libfuse's context when asked. */
  private final CallContext kernelCaller = new CallContext() {
    @Override
    public Caller caller() {
      FuseContext ctx = getContext();
      int uid = (int) ctx.uid.get();
      int gid = (int) ctx.gid.get();
      return Caller.newBuilder()
          .setUid(uid)
          .setGid(gid)
          .addAllGroups(callerGroups.of(ctx.pid.get(), uid, gid))
          .build();
    }

    @Override
    public long pid() {
      return getContext().pid.get();
    }
  };

  /** A mount with a random client id. The transport stays the caller's to close. */
  public ShoalFuse(ShoalTransport transport, ShoalFuseConfig config) {
    this(transport, config, MountFileSystem.randomClientId());
  }

  /** A mount with the given client id (non-zero, unique among the cluster's clients). */
  public ShoalFuse(ShoalTransport transport, ShoalFuseConfig config, long clientId) {
    this.config = config;
    this.fs = new MountFileSystem(transport, config, clientId);
    this.attributes = fs.attributes();
    this.namespace = fs.namespace();
    this.directories = fs.directories();
    this.files = fs.files();
    this.locks = fs.locks();
    this.xattrs = fs.xattrs();
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
    fs.startSession();
    mount(mountPoint, blocking, debug, config.mountOptions().toArgs());
  }

  /** Unmounts (idempotent); a blocking {@link #mount} then returns. */
  @Override
  public void close() {
    umount();
    fs.close();
  }

  public long clientId() {
    return fs.clientId();
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
      attributes.getattr(kernelCaller, path, (attr, size) -> FileStats.fill(stat, attr, size));
      return 0;
    });
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    return calls.run("fgetattr", path, () -> {
      attributes.fgetattr(kernelCaller, path, fi.fh.get(),
          (attr, size) -> FileStats.fill(stat, attr, size));
      return 0;
    });
  }

  @Override
  public int access(String path, int mask) {
    return calls.run("access", path, () -> {
      attributes.access(kernelCaller, path);
      return 0;
    });
  }

  @Override
  public int chmod(String path, @mode_t long mode) {
    return calls.run("chmod", path, () -> {
      attributes.chmod(kernelCaller, path, mode);
      return 0;
    });
  }

  @Override
  public int chown(String path, @uid_t long uid, @gid_t long gid) {
    return calls.run("chown", path, () -> {
      attributes.chown(kernelCaller, path, uid, gid);
      return 0;
    });
  }

  @Override
  public int utimens(String path, Timespec[] timespec) {
    return calls.run("utimens", path, () -> {
      if (timespec == null || timespec.length < 2) {
        attributes.utimens(kernelCaller, path,
            0, NanoTimes.UTIME_NOW, 0, NanoTimes.UTIME_NOW);
      } else {
        attributes.utimens(kernelCaller, path,
            timespec[0].tv_sec.get(), timespec[0].tv_nsec.longValue(),
            timespec[1].tv_sec.get(), timespec[1].tv_nsec.longValue());
      }
      return 0;
    });
  }

  @Override
  public int truncate(String path, @off_t long size) {
    return calls.run("truncate", path, () -> {
      files.truncate(kernelCaller, path, size);
      return 0;
    });
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    return calls.run("ftruncate", path, () -> {
      files.ftruncate(kernelCaller, fi.fh.get(), size);
      return 0;
    });
  }

  @Override
  public int fallocate(String path, int mode, @off_t long offset, @off_t long length,
      FuseFileInfo fi) {
    return calls.run("fallocate", path, () -> {
      files.fallocate(kernelCaller, fi.fh.get(), mode, offset, length);
      return 0;
    });
  }

  // ------------------------------------------------------------------ namespace

  @Override
  public int mkdir(String path, @mode_t long mode) {
    return calls.run("mkdir", path, () -> {
      namespace.mkdir(kernelCaller, path, mode);
      return 0;
    });
  }

  @Override
  public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
    return calls.run("mknod", path, () -> {
      namespace.mknod(kernelCaller, path, mode, rdev);
      return 0;
    });
  }

  @Override
  public int symlink(String target, String path) {
    return calls.run("symlink", path, () -> {
      namespace.symlink(kernelCaller, target, path);
      return 0;
    });
  }

  @Override
  public int readlink(String path, Pointer buf, @size_t long size) {
    return calls.run("readlink", path, () -> {
      String target = namespace.readlink(kernelCaller, path);
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
      namespace.link(kernelCaller, existing, path);
      return 0;
    });
  }

  @Override
  public int unlink(String path) {
    return calls.run("unlink", path, () -> {
      namespace.unlink(kernelCaller, path);
      return 0;
    });
  }

  @Override
  public int rmdir(String path) {
    return calls.run("rmdir", path, () -> {
      namespace.rmdir(kernelCaller, path);
      return 0;
    });
  }

  @Override
  public int rename(String oldpath, String newpath) {
    return calls.run("rename", oldpath, () -> {
      namespace.rename(kernelCaller, oldpath, newpath);
      return 0;
    });
  }

  // ------------------------------------------------------------------ directories

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return calls.run("opendir", path, () -> {
      fi.fh.set(directories.opendir(kernelCaller, path, fi.flags.get()));
      return 0;
    });
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset,
      FuseFileInfo fi) {
    return calls.run("readdir", path, () -> {
      // One struct for every entry: libfuse copies what it needs before the next.
      FileStat entryStat = new FileStat(jnr.ffi.Runtime.getSystemRuntime());
      directories.readdir(kernelCaller, path, fi.fh.get(), (name, type, inode) -> {
        if (type == null) {
          return filter.apply(buf, name, null, 0) != 0;
        }
        entryStat.st_mode.set(FileModes.entryMode(type));
        entryStat.st_ino.set(inode);
        return filter.apply(buf, name, entryStat, 0) != 0;
      });
      return 0;
    });
  }

  @Override
  public int fsyncdir(String path, FuseFileInfo fi) {
    return calls.run("fsyncdir", path, () -> {
      directories.fsyncdir();
      return 0;
    });
  }

  @Override
  public int releasedir(String path, FuseFileInfo fi) {
    return calls.run("releasedir", path, () -> {
      directories.releasedir(fi.fh.get());
      return 0;
    });
  }

  // ------------------------------------------------------------------ files

  @Override
  public int create(String path, @mode_t long mode, FuseFileInfo fi) {
    return calls.run("create", path, () -> {
      fi.fh.set(files.create(kernelCaller, path, mode, fi.flags.get()));
      return 0;
    });
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    return calls.run("open", path, () -> {
      fi.fh.set(files.open(kernelCaller, path, fi.flags.get()));
      return 0;
    });
  }

  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    return calls.run("read", path, () -> files.read(kernelCaller, fi.fh.get(), offset,
        (int) Math.min(size, Integer.MAX_VALUE), new PointerTarget(buf)));
  }

  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    return calls.run("write", path, () -> files.write(fi.fh.get(), offset,
        (dst, at, n) -> buf.get(0, dst, at, n), (int) Math.min(size, Integer.MAX_VALUE)));
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    return calls.run("flush", path, () -> {
      files.flush(fi.fh.get());
      return 0;
    });
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    return calls.run("fsync", path, () -> {
      files.fsync(fi.fh.get());
      return 0;
    });
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return calls.run("release", path, () -> {
      files.release(fi.fh.get());
      return 0;
    });
  }

  // ------------------------------------------------------------------ locks

  @Override
  public int lock(String path, FuseFileInfo fi, int cmd, Flock flock) {
    return calls.run("lock", path, () -> {
      long fh = fi.fh.get();
      long owner = fi.lock_owner.get();
      long start = flock.l_start.get();
      long len = flock.l_len.get();
      long end = len <= 0 ? 0 : start + len; // libfuse hands absolute ranges; 0 = to EOF
      LockType type = lockType(flock.l_type.get());
      if (cmd == F_GETLK) {
        LockRange c = locks.testLock(kernelCaller, fh, owner, type, start, end);
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
      locks.setLock(kernelCaller, fh, owner, type, start, end, cmd == F_SETLKW);
      return 0;
    });
  }

  @Override
  public int flock(String path, FuseFileInfo fi, int op) {
    return calls.run("flock", path, () -> {
      locks.flock(kernelCaller, fi.fh.get(), fi.lock_owner.get(), op);
      return 0;
    });
  }

  private static LockType lockType(int fcntlType) {
    if (fcntlType == Flock.F_RDLCK) {
      return LockType.READ_LOCK;
    }
    return fcntlType == Flock.F_WRLCK ? LockType.WRITE_LOCK : LockType.UNLOCK;
  }

  // ------------------------------------------------------------------ filesystem

  @Override
  public int statfs(String path, Statvfs st) {
    return calls.run("statfs", path, () -> {
      FsSpace space = attributes.statfs(kernelCaller);
      st.f_bsize.set(FileModes.BLOCK_SIZE);
      st.f_frsize.set(FileModes.BLOCK_SIZE);
      st.f_blocks.set(space.totalBytes() / FileModes.BLOCK_SIZE);
      st.f_bfree.set(space.freeBytes() / FileModes.BLOCK_SIZE);
      st.f_bavail.set(space.freeBytes() / FileModes.BLOCK_SIZE);
      st.f_files.set(space.usedInodes() + space.freeInodes());
      st.f_ffree.set(space.freeInodes());
      st.f_favail.set(space.freeInodes());
      st.f_namemax.set(space.nameMax());
      return 0;
    });
  }

  // ------------------------------------------------------------------ extended attributes

  @Override
  public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
    return calls.run("setxattr", path, () -> {
      xattrs.setxattr(kernelCaller, path, name, (dst, at, n) -> value.get(0, dst, at, n),
          (int) size, flags);
      return 0;
    });
  }

  @Override
  public int getxattr(String path, String name, Pointer value, @size_t long size) {
    return calls.run("getxattr", path,
        () -> xattrs.getxattr(kernelCaller, path, name, new PointerTarget(value), size));
  }

  @Override
  public int listxattr(String path, Pointer list, @size_t long size) {
    return calls.run("listxattr", path,
        () -> xattrs.listxattr(kernelCaller, path, new PointerTarget(list), size));
  }

  @Override
  public int removexattr(String path, String name) {
    return calls.run("removexattr", path, () -> {
      xattrs.removexattr(kernelCaller, path, name);
      return 0;
    });
  }
}
