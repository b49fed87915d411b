package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.Status;

/**
 * Decides whether a caller may access an inode. The namespace asks before every change; the
 * mode-bit rules are not enforced yet ({@link #NOT_ENFORCED}), but this is where they go.
 */
@FunctionalInterface
public interface Permissions {

  int READ = 4;
  int WRITE = 2;
  int EXECUTE = 1;

  /** OK, or EACCES/EPERM when {@code caller} lacks {@code access} (READ|WRITE|EXECUTE). */
  Status check(Caller caller, Attr inode, int access);

  Permissions NOT_ENFORCED = (caller, inode, access) -> Status.OK;
}
