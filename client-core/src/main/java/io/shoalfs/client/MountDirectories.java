package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;

/** Open, list, sync and close directories of a mount. */
public final class MountDirectories {
  private final MountParts parts;

  MountDirectories(MountParts parts) {
    this.parts = parts;
  }

  /** Opens the directory at {@code path}; returns its handle. */
  public long opendir(CallContext who, String path, int flags) throws RpcException {
    Caller caller = who.caller();
    Attr attr = parts.resolver.attr(caller, path);
    if (attr.getType() != FileType.DIRECTORY) {
      throw new RpcException(Status.ENOTDIR, path);
    }
    return parts.handles.open(attr.getInode(), flags, caller).fh();
  }

  /**
   * Lists the directory open as {@code fh} (0: the one at {@code path}), "." and ".." first,
   * into {@code out} until it is full. Each entry comes with its type and inode (d_type, d_ino):
   * find, rm -r, ls --color learn what is a directory without a lookup and getattr per entry.
   */
  public void readdir(CallContext who, String path, long fh, DirectorySink out)
      throws RpcException {
    Caller caller = who.caller();
    long inode = fh != 0
        ? parts.handles.get(fh).inode()
        : parts.resolver.withInode(caller, path, ino -> ino);
    // No offsets: libfuse buffers the whole listing, so the kernel's own offsets are never
    // passed back to us.
    if (out.add(".", null, 0) || out.add("..", null, 0)) {
      return;
    }
    String after = "";
    // A held directory answers its names' lookups here, and has no attributes to give for
    // the names it did not make: attributes in its listing only cost (measured: the first
    // listing of 1000 names took 4-6x the next ones).
    boolean withAttrs = !parts.meta.writeBack().holdsDirectory(inode)
        && parts.readdirPlus.withAttrs(inode);
    while (true) {
      long generation = parts.resolver.cache().generation();
      MetaResponse page = parts.meta.call(caller, MetaRequest.newBuilder().setReadDir(
          ReadDirOp.newBuilder()
              .setInode(inode)
              .setStartAfter(after)
              .setLimit(parts.config.readDirPageSize())
              .setWithAttrs(withAttrs)));
      // readdirplus: the lookup and getattr the kernel sends next for each name (ls -l,
      // find, tar, rm -r) are answered from here while the caches hold them.
      if (withAttrs) {
        parts.resolver.listed(path, page, generation);
      }
      for (DirEntry entry : page.getEntriesList()) {
        if (out.add(entry.getName(), entry.getType(), entry.getInode())) {
          return; // no room for more
        }
      }
      if (!page.getHasMore() || page.getEntriesCount() == 0) {
        return;
      }
      after = page.getEntries(page.getEntriesCount() - 1).getName();
    }
  }

  /**
   * A namespace change answered by the servers is durable; one answered here is once the
   * journal that carries it is applied.
   */
  public void fsyncdir() throws RpcException {
    parts.meta.writeBack().flush();
    parts.reportJournalFailure();
  }

  public void releasedir(long fh) {
    parts.handles.release(fh);
  }
}
