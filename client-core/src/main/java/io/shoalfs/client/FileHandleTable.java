package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open handles of this mount, by file handle (what FUSE gives back on read/write/release) and by
 * inode, so that getattr reports the size of a file that is still being written.
 */
final class FileHandleTable {
  private final AtomicLong nextFh = new AtomicLong(1);
  private final Map<Long, OpenFile> byFh = new ConcurrentHashMap<>();
  private final Map<Long, Set<OpenFile>> byInode = new ConcurrentHashMap<>();

  OpenFile open(long inode, int flags, Caller opener) {
    OpenFile file = new OpenFile(nextFh.getAndIncrement(), inode, flags, opener);
    byInode.compute(inode, (k, set) -> {
      Set<OpenFile> s = set == null ? ConcurrentHashMap.newKeySet() : set;
      s.add(file);
      return s;
    });
    byFh.put(file.fh(), file);
    return file;
  }

  /** The open handle {@code fh}; EBADF when there is none. */
  OpenFile get(long fh) throws RpcException {
    OpenFile file = byFh.get(fh);
    if (file == null) {
      throw new RpcException(Status.EBADF, "no open handle " + fh);
    }
    return file;
  }

  /** The open handle {@code fh}, or null. */
  OpenFile find(long fh) {
    return byFh.get(fh);
  }

  /** Forgets handle {@code fh} and returns it (null when unknown). */
  OpenFile release(long fh) {
    OpenFile file = byFh.remove(fh);
    if (file != null) {
      byInode.computeIfPresent(file.inode(), (k, set) -> {
        set.remove(file);
        return set.isEmpty() ? null : set;
      });
    }
    return file;
  }

  /** The highest end written through any open handle of {@code inode}, 0 when none. */
  long writtenEnd(long inode) {
    Set<OpenFile> files = byInode.get(inode);
    if (files == null) {
      return 0;
    }
    long end = 0;
    for (OpenFile f : files) {
      end = Math.max(end, f.writtenEnd());
    }
    return end;
  }

  /** The size a reader on this mount sees: metadata's, or further if written and uncommitted. */
  long effectiveSize(long inode, long metadataSize) {
    return Math.max(metadataSize, writtenEnd(inode));
  }

  /** {@code attr} as this mount shows it: with times its handles hold for their commits. */
  Attr shown(Attr attr) {
    Set<OpenFile> files = byInode.get(attr.getInode());
    if (files == null) {
      return attr;
    }
    Attr shown = attr;
    for (OpenFile f : files) {
      shown = f.shownWithTimes(shown);
    }
    return shown;
  }

  /** A write to {@code inode}: times its handles hold lose their mtime to it. */
  void written(long inode) {
    Set<OpenFile> files = byInode.get(inode);
    if (files != null) {
      files.forEach(OpenFile::writtenSinceTimes);
    }
  }

  /** {@code inode} was truncated to {@code size}: no handle may later commit past it. */
  void truncated(long inode, long size) {
    Set<OpenFile> files = byInode.get(inode);
    if (files != null) {
      files.forEach(f -> f.clampTo(size));
    }
  }

  /** The handles open on {@code inode} right now (a snapshot). */
  List<OpenFile> openFiles(long inode) {
    Set<OpenFile> files = byInode.get(inode);
    return files == null ? List.of() : List.copyOf(files);
  }

  int openCount() {
    return byFh.size();
  }
}
