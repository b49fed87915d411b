package io.shoalfs.client.writeback;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.ChunkLocation;
import java.util.Map;

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
   * Where the chunks this mount placed for a file it made here are, by index (registered by the
   * journal); null while there are none. The servers know no other chunk of such a file, so
   * this is the whole chunk map of it, until {@link #chunksAreServers}.
   */
  Map<Integer, ChunkLocation> placedChunks;
  /**
   * A chunk of it was re-placed by the servers (a failed write): its chunk map is theirs from
   * then on.
   */
  boolean chunksAreServers;

  LocalInode(Attr attr, long coveredBy, String target) {
    this.attr = attr;
    this.coveredBy = coveredBy;
    this.target = target;
  }
}
