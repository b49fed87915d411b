package io.shoalfs.s3;

import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.rpc.RpcException;
import java.util.Optional;

/**
 * What a listing needs of the namespace: a directory's entries in name order, page by page
 * (with their attributes), and one name looked up. The gateway's comes from the cluster; unit
 * tests use a tree in memory.
 */
interface Directories {
  ClientCore.DirPage list(long dir, String after, int limit) throws RpcException;

  /** The entry {@code name} of {@code dir}, with its attributes; empty if there is none. */
  Optional<DirEntry> lookup(long dir, String name) throws RpcException;
}
