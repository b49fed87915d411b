package io.shoalfs.server.meta;

import io.shoalfs.fs.XattrNamespaces;
import io.shoalfs.proto.Status;
import java.nio.charset.StandardCharsets;

/** What a directory entry or xattr may be called. */
final class Names {

  /** NAME_MAX: a name is at most this many bytes of UTF-8 (not characters). */
  static final int NAME_MAX = 255;
  static final int XATTR_NAME_MAX = 255;
  static final int XATTR_VALUE_MAX = 64 * 1024;
  static final int PATH_MAX = 4096;

  private Names() {}

  /** OK, or why {@code name} cannot name a directory entry. */
  static Status checkEntryName(String name) {
    if (name.isEmpty() || name.equals(".") || name.equals("..")
        || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
      return Status.EINVAL;
    }
    if (utf8Length(name) > NAME_MAX) {
      return Status.ENAMETOOLONG;
    }
    return Status.OK;
  }

  /** OK, or why {@code name} cannot name an xattr (Linux answers ERANGE for both). */
  static Status checkXattrName(String name) {
    // Only namespaces stored verbatim are accepted. system.posix_acl_* must not be kept as
    // opaque bytes: `cp -a` sets the mode through it and falls back to chmod on ENOTSUP.
    return XattrNamespaces.check(name);
  }

  static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
