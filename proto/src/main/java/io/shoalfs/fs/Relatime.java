package io.shoalfs.fs;

import io.shoalfs.proto.Attr;

/**
 * Linux's relatime rule, shared by the client (which decides whether a read sends an access
 * note at all) and the server (which applies the note): two copies of it drifted apart would
 * have the client show an atime the cluster never records, or send notes that change nothing.
 */
public final class Relatime {
  /** An atime this old moves on the next read whatever mtime and ctime say. */
  public static final long MAX_AGE_NS = 24L * 3600 * 1_000_000_000L;

  private Relatime() {}

  /** Whether a read at {@code readAtNs} moves the atime: not after mtime and ctime, or a day old. */
  public static boolean isDue(Attr attr, long readAtNs) {
    long atime = attr.getAtimeNs();
    return atime <= attr.getMtimeNs() || atime <= attr.getCtimeNs()
        || readAtNs - atime >= MAX_AGE_NS;
  }
}
