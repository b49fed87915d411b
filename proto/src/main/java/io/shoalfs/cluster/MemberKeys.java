package io.shoalfs.cluster;

import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;

/**
 * The key schema in etcd, in one place.
 *
 * <pre>
 *   /shoalfs/members/&lt;id&gt;  ->  MemberInfo protobuf bytes, attached to the member's lease
 *   /shoalfs/settings       ->  ClusterSettings protobuf bytes, no lease: written once, by the
 *                               server that forms the cluster (see ClusterSettingsRecord)
 * </pre>
 *
 * A member's key lives exactly as long as its lease: a clean shutdown revokes the lease (the
 * key goes at once), a crash lets it expire after the TTL. A directory is one prefix scan.
 * The settings key is outside the members prefix, so a directory never sees it.
 */
public final class MemberKeys {
  public static final String PREFIX = "/shoalfs/members/";
  public static final String SETTINGS = "/shoalfs/settings";

  private MemberKeys() {}

  /** The key of member {@code id}; rejects ids that would escape or nest under the prefix. */
  public static ByteSequence keyOf(String id) {
    return bytes(PREFIX + checkId(id));
  }

  public static ByteSequence prefix() {
    return bytes(PREFIX);
  }

  /** The key of the cluster's settings. */
  public static ByteSequence settings() {
    return bytes(SETTINGS);
  }

  /** The member id a key names, or null if the key is not directly under the prefix. */
  public static String idOf(ByteSequence key) {
    String k = key.toString(StandardCharsets.UTF_8);
    if (!k.startsWith(PREFIX)) {
      return null;
    }
    String id = k.substring(PREFIX.length());
    return isValidId(id) ? id : null;
  }

  static String checkId(String id) {
    if (!isValidId(id)) {
      throw new IllegalArgumentException(
          "member id must be 1-128 printable ASCII characters without '/': \"" + id + "\"");
    }
    return id;
  }

  static boolean isValidId(String id) {
    if (id == null || id.isEmpty() || id.length() > 128) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c <= ' ' || c > '~' || c == '/') {
        return false;
      }
    }
    return true;
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
