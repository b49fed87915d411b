package io.shoalfs.fs;

import io.shoalfs.proto.Status;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The xattr namespaces ShoalFS stores verbatim, shared by the server (which enforces it) and the
 * client (which answers the others at once, without a round trip: `cp -a` tries
 * {@code system.posix_acl_access} on every file it copies).
 */
public final class XattrNamespaces {
  /** {@code system.posix_acl_*} is not among them: ACLs must not be kept as opaque bytes. */
  public static final List<String> STORED = List.of("user.", "trusted.", "security.");

  /** XATTR_NAME_MAX: a name is at most this many bytes of UTF-8. */
  public static final int NAME_MAX = 255;

  private XattrNamespaces() {}

  /** OK, or why {@code name} cannot name an xattr here: ERANGE as Linux, ENOTSUP. */
  public static Status check(String name) {
    if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
      return Status.ERANGE;
    }
    return isStored(name) ? Status.OK : Status.ENOTSUP;
  }

  /** Whether {@code name} is in a stored namespace and names something after the prefix. */
  public static boolean isStored(String name) {
    for (String ns : STORED) {
      if (name.startsWith(ns) && name.length() > ns.length()) {
        return true;
      }
    }
    return false;
  }
}
