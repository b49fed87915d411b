package io.shoalfs.client.writeback;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The directories this mount holds the shared capability of: their entries, and the attributes
 * of the children they cover (non-directories whose only name is there: Attr.parent names the
 * directory), as the servers had them when the capability was granted. No other mount can
 * change any of it until this one has given the capability back (the servers recall it first),
 * so it is kept with no time limit: lookups (of missing names too), listings, getattrs of
 * covered children and path walks from the root through held directories are answered here.
 *
 * <p>A directory child's attributes change with its own entries, which its parent's capability
 * does not cover: only its name and inode are kept. This mount's own changes go to the servers;
 * what they touch is forgotten here ({@link #forgetDir}, {@link #forgetAttr}).
 *
 * <p>Not thread-safe: {@link WriteBack} calls it under its lock.
 */
final class SharedDirectories {
  /** Directories held at most. */
  static final int MAX_HELD = 4096;
  /** Names kept in all held directories at most; past it the least recently used go back. */
  static final int MAX_NAMES = 400_000;

  /** One held directory: its names (without attributes) in name order, for paging. */
  private static final class Listing {
    final TreeMap<String, DirEntry> entries = new TreeMap<>();
    long lastUsedNs;
  }

  /** A covered child's attributes, and the held directory that covers them. */
  private record Covered(long dir, Attr attr) {}

  private final Map<Long, Listing> held = new HashMap<>();
  private final Map<Long, Covered> covered = new HashMap<>();
  private int names;

  boolean holds(long dir) {
    return held.containsKey(dir);
  }

  int count() {
    return held.size();
  }

  boolean isEmpty() {
    return held.isEmpty();
  }

  /**
   * Starts holding {@code dir} with the listing the servers gave after granting it. Returns the
   * directories given up to stay within {@link #MAX_NAMES} (the caller gives them back).
   */
  List<Long> adopt(long dir, List<DirEntry> listed, long nowNs) {
    forgetDir(dir);
    Listing listing = new Listing();
    listing.lastUsedNs = nowNs;
    for (DirEntry e : listed) {
      listing.entries.put(e.getName(), e.hasAttr() ? e.toBuilder().clearAttr().build() : e);
      if (e.hasAttr() && covers(dir, e.getAttr())) {
        covered.put(e.getInode(), new Covered(dir, e.getAttr()));
      }
    }
    held.put(dir, listing);
    names += listing.entries.size();
    List<Long> evicted = new ArrayList<>();
    while (names > MAX_NAMES && held.size() > 1) {
      long oldest = leastRecentlyUsedOtherThan(dir);
      forgetDir(oldest);
      evicted.add(oldest);
    }
    return evicted;
  }

  /** Whether {@code dir}'s capability covers a child with these attributes. */
  static boolean covers(long dir, Attr child) {
    return child.getType() != FileType.DIRECTORY && child.getNlink() == 1
        && child.getParent() == dir;
  }

  /** Stops holding {@code dir} here (given back, recalled, or changed by this mount). */
  void forgetDir(long dir) {
    Listing listing = held.remove(dir);
    if (listing == null) {
      return;
    }
    names -= listing.entries.size();
    for (DirEntry e : listing.entries.values()) {
      Covered c = covered.get(e.getInode());
      if (c != null && c.dir() == dir) {
        covered.remove(e.getInode());
      }
    }
  }

  /** {@code inode}'s attributes change through this mount: the servers' answer decides them. */
  void forgetAttr(long inode) {
    covered.remove(inode);
  }

  /** The inode {@code name} names in held directory {@code dir}, or 0 when not known here. */
  long entryInode(long dir, String name) {
    Listing listing = held.get(dir);
    DirEntry e = listing == null ? null : listing.entries.get(name);
    return e == null ? 0 : e.getInode();
  }

  /** Every held directory. */
  List<Long> dirs() {
    return new ArrayList<>(held.keySet());
  }

  /** Forgets everything (the session that held it has ended). */
  void clear() {
    held.clear();
    covered.clear();
    names = 0;
  }

  /** Held directories not used since {@code beforeNs}. */
  List<Long> idleSince(long beforeNs) {
    List<Long> idle = new ArrayList<>();
    held.forEach((dir, listing) -> {
      if (listing.lastUsedNs - beforeNs < 0) {
        idle.add(dir);
      }
    });
    return idle;
  }

  // ------------------------------------------------------------------ answering

  /** Answers a read from held listings, or null when the servers must. */
  MetaResponse read(MetaRequest.Builder request, long nowNs) throws RpcException {
    switch (request.getOpCase()) {
      case GET_ATTR: {
        Covered c = covered.get(request.getGetAttr().getInode());
        if (c == null) {
          return null;
        }
        use(c.dir(), nowNs);
        return ok(c.attr());
      }
      case LOOKUP: {
        Listing listing = use(request.getLookup().getParent(), nowNs);
        if (listing == null) {
          return null;
        }
        DirEntry e = listing.entries.get(request.getLookup().getName());
        if (e == null) {
          throw new RpcException(Status.ENOENT, request.getLookup().getName());
        }
        Attr attr = coveredAttr(request.getLookup().getParent(), e.getInode());
        return attr != null ? ok(attr) : null;
      }
      case READ_DIR:
        return readDir(request.getReadDir(), nowNs);
      default:
        return null;
    }
  }

  /** Where a walk of a path from the root through held listings ended. */
  record Walk(Found found, long unheld) {
    static Walk stopped(long unheld) {
      return new Walk(null, unheld);
    }
  }

  /** A path's inode, with its attributes when they are covered here (else null). */
  record Found(long inode, Attr attr) {}

  /**
   * Walks absolute {@code path} from the root through held listings, shared ones and those of
   * the directories this mount holds exclusively ({@code exclusive}: a held directory's names,
   * or null). Found: the inode at its end (a name missing from a held listing is ENOENT). Else
   * the walk stopped at a directory not held here: {@code unheld} is its inode (0 when the walk
   * met something else: "..", a non-directory on the way).
   */
  Walk walk(String path, long rootInode, long nowNs,
      Function<Long, Map<String, HeldDirectory.Entry>> exclusive) throws RpcException {
    long current = rootInode;
    Attr attr = null;
    String[] parts = path.split("/");
    for (int i = 0; i < parts.length; i++) {
      String name = parts[i];
      if (name.isEmpty() || name.equals(".")) {
        continue;
      }
      if (name.equals("..")) {
        return Walk.stopped(0);
      }
      long next;
      FileType type;
      Listing listing = use(current, nowNs);
      if (listing != null) {
        DirEntry e = listing.entries.get(name);
        if (e == null) {
          throw new RpcException(Status.ENOENT, "no entry " + name + " in " + path);
        }
        next = e.getInode();
        type = e.getType();
        attr = coveredAttr(current, next);
      } else {
        Map<String, HeldDirectory.Entry> names = exclusive.apply(current);
        if (names == null) {
          return Walk.stopped(current);
        }
        HeldDirectory.Entry e = names.get(name);
        if (e == null) {
          throw new RpcException(Status.ENOENT, "no entry " + name + " in " + path);
        }
        next = e.inode();
        type = e.type();
        attr = null; // the held directory's own answers give it
      }
      if (type != FileType.DIRECTORY && hasMoreNames(parts, i)) {
        return Walk.stopped(0);
      }
      current = next;
    }
    return current == rootInode ? Walk.stopped(0) : new Walk(new Found(current, attr), 0);
  }

  private static boolean hasMoreNames(String[] parts, int i) {
    for (int j = i + 1; j < parts.length; j++) {
      if (!parts[j].isEmpty()) {
        return true;
      }
    }
    return false;
  }

  private MetaResponse readDir(ReadDirOp op, long nowNs) {
    Listing listing = use(op.getInode(), nowNs);
    if (listing == null) {
      return null;
    }
    int limit = op.getLimit() == 0 ? 1024 : op.getLimit();
    MetaResponse.Builder page = MetaResponse.newBuilder().setStatus(Status.OK);
    for (DirEntry e : listing.entries.tailMap(op.getStartAfter(), false).values()) {
      if (page.getEntriesCount() == limit) {
        page.setHasMore(true);
        break;
      }
      if (!op.getWithAttrs()) {
        page.addEntries(e);
        continue;
      }
      Attr attr = coveredAttr(op.getInode(), e.getInode());
      if (attr == null) {
        return null; // attributes this listing does not keep: the servers have them
      }
      page.addEntries(e.toBuilder().setAttr(attr));
    }
    return page.build();
  }

  /** {@code child}'s attributes if {@code dir}'s capability covers them here, else null. */
  private Attr coveredAttr(long dir, long child) {
    Covered c = covered.get(child);
    return c != null && c.dir() == dir ? c.attr() : null;
  }

  private Listing use(long dir, long nowNs) {
    Listing listing = held.get(dir);
    if (listing != null) {
      listing.lastUsedNs = nowNs;
    }
    return listing;
  }

  private long leastRecentlyUsedOtherThan(long keep) {
    long oldest = 0;
    long oldestNs = 0;
    for (Map.Entry<Long, Listing> e : held.entrySet()) {
      if (e.getKey() != keep && (oldest == 0 || e.getValue().lastUsedNs - oldestNs < 0)) {
        oldest = e.getKey();
        oldestNs = e.getValue().lastUsedNs;
      }
    }
    return oldest;
  }

  private static MetaResponse ok(Attr attr) {
    return MetaResponse.newBuilder().setStatus(Status.OK).setAttr(attr).build();
  }
}
