package io.shoalfs.client;

import io.shoalfs.proto.FileType;

/** Takes a directory listing's entries, in order, until it has no room for more. */
@FunctionalInterface
public interface DirectorySink {
  /**
   * Adds one entry; true when there is no room for it (the listing stops there). {@code type}
   * is null for "." and "..", which are listed without a type or an inode.
   */
  boolean add(String name, FileType type, long inode);
}
