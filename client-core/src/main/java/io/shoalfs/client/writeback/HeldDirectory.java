package io.shoalfs.client.writeback;

import io.shoalfs.proto.FileType;
import java.util.TreeMap;

/**
 * A directory this mount holds the exclusive capability of: nobody else reads or changes it
 * until the capability is recalled, so its listing here is complete and true, and names are
 * added, removed and renamed in it locally.
 */
final class HeldDirectory {
  /** One name in the directory. */
  record Entry(long inode, FileType type) {}

  final long inode;
  /** Its parent's inode (".." for a rename into its own subtree). */
  long parent;
  /** Its absolute path on this mount ("/a/b"). */
  String path;
  /** Every name in it, in name order (a listing pages through it by name). */
  final TreeMap<String, Entry> entries = new TreeMap<>();
  /** When this mount last used it (for giving back idle capabilities). */
  long lastUsedNs;

  HeldDirectory(long inode, long parent, String path, long nowNs) {
    this.inode = inode;
    this.parent = parent;
    this.path = path;
    this.lastUsedNs = nowNs;
  }

  String childPath(String name) {
    return path.equals("/") ? "/" + name : path + "/" + name;
  }
}
