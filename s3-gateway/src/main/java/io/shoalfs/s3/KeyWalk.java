package io.shoalfs.s3;

import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * The keys under a directory of a bucket, in S3's order (the byte order of full keys), one at
 * a time, reading the directories a page at a time.
 *
 * <p>Why not simply depth-first in name order: the keys below directory {@code a} all start
 * with {@code a/}, and '/' sorts after '-', '.', ' ' and the like, so file {@code a-1} comes
 * before every key of {@code a/} although directory {@code a} comes first by name. Each
 * directory entry is therefore held back (in a small queue ordered by full key) until the
 * scan of its parent passes {@code a/}; only names that extend {@code a} with such a
 * character sit between, so the queue stays short.
 *
 * <p>Resuming after a key (a marker, a continuation token) starts each directory's scan at
 * that key's name there, and looks up the few names the scan would then miss: those that are
 * directories sorting after the key although their names sort before it.
 */
final class KeyWalk {
  /** A file's key, or a directory's key prefix (ending in '/') when directories roll up. */
  record Item(String key, DirEntry entry, boolean isPrefix) {}

  static final int PAGE = 1000;

  private final Directories dirs;
  private final String after;
  private final boolean rollUpDirectories;
  private final Deque<Frame> stack = new ArrayDeque<>();

  /**
   * @param dir the directory whose keys start with {@code dirKey} ("" for the bucket, else
   *     ending in '/')
   * @param namePrefix only names of {@code dir} that start with this ("" for all)
   * @param after only keys after this one (null for all)
   * @param rollUpDirectories a directory is one item (its prefix), not the keys below it
   */
  KeyWalk(Directories dirs, long dir, String dirKey, String namePrefix, String after,
      boolean rollUpDirectories) throws RpcException {
    this.dirs = dirs;
    this.after = after;
    this.rollUpDirectories = rollUpDirectories;
    if (after == null || after.startsWith(dirKey) || Keys.after(dirKey, after)) {
      stack.push(new Frame(dir, dirKey, namePrefix,
          after != null && after.startsWith(dirKey) ? after : null));
    }
  }

  /** The next item, or null when there is none. */
  Item next() throws RpcException {
    while (!stack.isEmpty()) {
      Frame top = stack.peek();
      Item item = top.next();
      if (item == null) {
        stack.pop();
        continue;
      }
      if (!item.entry().getType().equals(FileType.DIRECTORY)) {
        return item;
      }
      String prefix = item.key();
      boolean resumesInside = after != null && after.startsWith(prefix);
      if (after != null && !resumesInside && !Keys.after(prefix, after)) {
        continue; // every key below sorts before the marker
      }
      if (rollUpDirectories) {
        if (!resumesInside) {
          return new Item(prefix, item.entry(), true);
        }
        continue; // the marker is this prefix or inside it: it was listed before
      }
      stack.push(new Frame(item.entry().getInode(), prefix, "", resumesInside ? after : null));
    }
    return null;
  }

  /** One directory being scanned: its entries merged with the held-back ones, in key order. */
  private final class Frame {
    private final long dir;
    private final String dirKey;
    private final String namePrefix;
    private final String after;
    private final PriorityQueue<Item> held = new PriorityQueue<>((a, b) -> Keys.compare(a.key(), b.key()));
    private Iterator<DirEntry> page;
    private String lastName;
    private boolean morePages = true;
    private DirEntry peeked;

    Frame(long dir, String dirKey, String namePrefix, String after) throws RpcException {
      this.dir = dir;
      this.dirKey = dirKey;
      this.namePrefix = namePrefix;
      this.after = after;
      String from = after == null ? "" : firstComponent(after.substring(dirKey.length()));
      if (Keys.after(namePrefix, from)) {
        from = namePrefix;
        holdIfPresent(namePrefix);
      } else if (!from.isEmpty()) {
        // Names before `from` whose directory keys sort after it: `from` itself, and its
        // prefixes followed in it by a character that sorts before '/'.
        holdIfPresent(from);
        for (int i = from.length() - 1; i > 0; i--) {
          if (from.charAt(i) < '/') {
            holdIfPresent(from.substring(0, i));
          }
        }
      }
      this.lastName = from.isEmpty() ? "" : from;
      // The scan itself starts after `from`: what it would skip that matters is held already.
    }

    private void holdIfPresent(String name) throws RpcException {
      if (!name.startsWith(namePrefix)) {
        return;
      }
      Optional<DirEntry> e = dirs.lookup(dir, name);
      if (e.isPresent() && isListed(e.get())) {
        held.add(item(e.get()));
      }
    }

    Item next() throws RpcException {
      while (true) {
        DirEntry e = peekScan();
        Item candidate = e == null ? null : item(e);
        if (!held.isEmpty()
            && (candidate == null || Keys.compare(held.peek().key(), candidate.key()) < 0)) {
          Item h = held.poll();
          if (isWanted(h)) {
            return h;
          }
          continue;
        }
        if (candidate == null) {
          return null;
        }
        peeked = null;
        if (e.getType() == FileType.DIRECTORY) {
          held.add(candidate);
        } else if (isWanted(candidate)) {
          return candidate;
        }
      }
    }

    /** A directory always (the walk decides about its keys); a file if it is after the marker. */
    private boolean isWanted(Item i) {
      return i.entry().getType() == FileType.DIRECTORY || after == null
          || Keys.after(i.key(), after);
    }

    /** The next scanned entry that is listed at all, or null at the end of the scan. */
    private DirEntry peekScan() throws RpcException {
      while (peeked == null) {
        if (page == null || !page.hasNext()) {
          if (!morePages) {
            return null;
          }
          ClientCore.DirPage p = dirs.list(dir, lastName, PAGE);
          page = p.entries().iterator();
          morePages = p.hasMore() && !p.entries().isEmpty();
          if (!page.hasNext()) {
            morePages = false;
            return null;
          }
        }
        DirEntry e = page.next();
        lastName = e.getName();
        if (!e.getName().startsWith(namePrefix)) {
          if (Keys.after(e.getName(), namePrefix)) {
            morePages = false; // names with the prefix are contiguous: none follow
            page = null;
            return null;
          }
          continue;
        }
        if (isListed(e)) {
          peeked = e;
        }
      }
      return peeked;
    }

    private Item item(DirEntry e) {
      boolean isDir = e.getType() == FileType.DIRECTORY;
      return new Item(dirKey + e.getName() + (isDir ? "/" : ""), e, false);
    }
  }

  /** Regular files are objects and directories hold them; anything else is not listed. */
  private static boolean isListed(DirEntry e) {
    return e.getType() == FileType.REGULAR || e.getType() == FileType.DIRECTORY;
  }

  private static String firstComponent(String rest) {
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }
}
