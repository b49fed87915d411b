package io.shoalfs.client.writeback;

import io.shoalfs.proto.Attr;

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

  LocalInode(Attr attr, long coveredBy, String target) {
    this.attr = attr;
    this.coveredBy = coveredBy;
    this.target = target;
  }
}
