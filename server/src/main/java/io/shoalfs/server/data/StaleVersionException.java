package io.shoalfs.server.data;

import java.io.IOException;

/**
 * The caller's chunk version is older than this node's copy: the chunk moved on (a replica
 * was dropped and the version bumped) after the caller learned its location. The data plane
 * answers STALE_VERSION with {@link #localVersion()}, and the caller refreshes.
 */
public final class StaleVersionException extends IOException {
  private final long localVersion;

  public StaleVersionException(long inode, int index, long callerVersion, long localVersion) {
    super("chunk " + Long.toUnsignedString(inode) + "#" + index + " is at version "
        + Long.toUnsignedString(localVersion) + ", caller has "
        + Long.toUnsignedString(callerVersion));
    this.localVersion = localVersion;
  }

  public long localVersion() {
    return localVersion;
  }
}
