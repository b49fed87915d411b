package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.proto.Status;

/**
 * Decides whether a caller may access or change an inode. The namespace asks before every
 * change: {@link #check} for the mode bits, {@link #mayRemove} for sticky directories and
 * {@link #maySetAttr} for the owner-only attribute changes. {@link ModePermissions} is the
 * Linux rule set the servers run; {@link #NOT_ENFORCED} lets every call through (tests of
 * other rules).
 */
@FunctionalInterface
public interface Permissions {

  int READ = 4;
  int WRITE = 2;
  int EXECUTE = 1;

  /** OK, or EACCES/EPERM when {@code caller} lacks {@code access} (READ|WRITE|EXECUTE). */
  Status check(Caller caller, Attr inode, int access);

  /** OK, or EPERM when a sticky {@code dir} keeps {@code caller} from removing {@code child}. */
  default Status mayRemove(Caller caller, Attr dir, Attr child) {
    return Status.OK;
  }

  /** OK, or EPERM/EACCES when {@code caller} may not make the changes {@code op} asks for. */
  default Status maySetAttr(Caller caller, Attr inode, SetAttrOp op) {
    return Status.OK;
  }

  Permissions NOT_ENFORCED = (caller, inode, access) -> Status.OK;
}
