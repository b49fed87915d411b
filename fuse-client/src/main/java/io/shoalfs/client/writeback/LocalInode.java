package io.shoalfs.client.writeback;

import io.shoalfs.proto.Attr;
import java.util.Set;

/**
 * An inode whose attributes this mount keeps itself while it holds the capability of the
 * directory it lives in: one it made there, or the held directory itself. Its changes reach the
 * servers only through the journal.
 */
final class LocalInode {
  Attr attr;
  /** The held directory whose capability covers it: its parent, or itself for a directory. */
  long coveredBy;
  /** A symbolic link's target; null otherwise. */
  final String target;
  /**
   * Indices of the chunks this mount placed for a file it made here (registered by the
   * journal); null while there are none. The servers know no other chunk of such a file.
   */
  Set<Integer> placedChunks;

  LocalInode(Attr attr, long coveredBy, String target) {
    this.attr = attr;
    this.coveredBy = coveredBy;
    this.target = target;
  }
}
