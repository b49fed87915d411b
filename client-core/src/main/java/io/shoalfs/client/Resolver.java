package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;

/**
 * Path to inode (and attributes), through the {@link PathCache}. A cached inode may be stale
 * (another client removed or renamed it within the TTL): when the cluster answers ENOENT for
 * it, the path is resolved afresh once before the ENOENT is believed.
 */
final class Resolver {
  /** Work on an inode that may be retried with a freshly resolved one. */
  @FunctionalInterface
  interface InodeCall<T> {
    T apply(long inode) throws RpcException;
  }

  private final MetaClient meta;
  private final PathCache cache;
  private final HiddenFiles hidden;

  Resolver(MetaClient meta, PathCache cache) {
    this(meta, cache, new HiddenFiles());
  }

  Resolver(MetaClient meta, PathCache cache, HiddenFiles hidden) {
    this.meta = meta;
    this.cache = cache;
    this.hidden = hidden;
  }

  PathCache cache() {
    return cache;
  }

  /** The attributes of {@code path}, cached ones if they are fresh enough. */
  Attr attr(Caller caller, String path) throws RpcException {
    return attr(caller, path, inode -> meta.cachedAttr(caller, inode));
  }

  /** The attributes of {@code path} as the cluster has them now (for open: close-to-open). */
  Attr freshAttr(Caller caller, String path) throws RpcException {
    return attr(caller, path, inode -> meta.getAttr(caller, inode));
  }

  /**
   * The attributes of whatever {@code path} names in the cluster now, resolved afresh (never by a
   * cached inode): open's close-to-open guarantee covers names renamed or removed elsewhere.
   * The answer also says where the first {@code chunkLookahead} chunks of a regular file live
   * (a small file is then read without asking the chunk map); a hidden name's answer has
   * attributes only.
   */
  MetaResponse resolveNow(Caller caller, String path, int chunkLookahead) throws RpcException {
    Long orphan = hidden.inode(path);
    if (orphan != null) {
      return MetaResponse.newBuilder().setAttr(meta.getAttr(caller, orphan)).build();
    }
    return resolveFresh(caller, path, chunkLookahead);
  }

  /** By the cached inode when there is one; else a resolve, whose answer is fresh already. */
  private Attr attr(Caller caller, String path, InodeCall<Attr> byInode) throws RpcException {
    Long orphan = hidden.inode(path);
    if (orphan != null) {
      return byInode.apply(orphan);
    }
    Long cached = cache.get(path);
    if (cached != null) {
      try {
        return byInode.apply(cached);
      } catch (RpcException e) {
        forgetIfStale(path, e);
      }
    }
    return resolveFresh(caller, path);
  }

  /** Runs {@code call} on the inode of {@code path}, retried once if a cached inode was stale. */
  <T> T withInode(Caller caller, String path, InodeCall<T> call) throws RpcException {
    Long orphan = hidden.inode(path);
    if (orphan != null) {
      return call.apply(orphan);
    }
    Long cached = cache.get(path);
    if (cached != null) {
      try {
        return call.apply(cached);
      } catch (RpcException e) {
        forgetIfStale(path, e);
      }
    }
    return call.apply(resolveFresh(caller, path).getInode());
  }

  /**
   * Caches what a listing of directory {@code dir} answered: each entry's inode under its path
   * and, when the listing carried them, its attributes (as of the listing's index). Taken like
   * a resolve's answer: {@code generationBeforeList} was read before the listing was asked.
   */
  void listed(String dir, MetaResponse listing, long generationBeforeList) {
    String prefix = dir.endsWith("/") ? dir : dir + "/";
    for (DirEntry entry : listing.getEntriesList()) {
      if (entry.hasAttr()) {
        meta.attrCache().put(entry.getAttr(), listing.getAppliedIndex());
      }
      cache.put(prefix + entry.getName(), entry.getInode(), generationBeforeList);
    }
  }

  /** Records an inode this mount just created at {@code path}. */
  void created(String path, long inode) {
    cache.put(path, inode, cache.generation());
  }

  private void forgetIfStale(String path, RpcException e) throws RpcException {
    if (e.status() != Status.ENOENT) {
      throw e;
    }
    cache.invalidate(path);
  }

  private Attr resolveFresh(Caller caller, String path) throws RpcException {
    return resolveFresh(caller, path, 0).getAttr();
  }

  private MetaResponse resolveFresh(Caller caller, String path, int chunkLookahead)
      throws RpcException {
    long generation = cache.generation();
    MetaResponse r = meta.resolve(caller, path, chunkLookahead);
    cache.put(path, r.getAttr().getInode(), generation);
    return r;
  }
}
