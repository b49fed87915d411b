package io.shoalfs.client;

import java.util.List;

/**
 * The libfuse {@code -o} options of a ShoalFS mount. attr/entry timeouts are short because other
 * clients change the namespace too; allow_other needs root or user_allow_other in
 * /etc/fuse.conf; default_permissions lets the kernel check mode bits against the attributes.
 */
public record MountOptions(List<String> options) {
  public static final List<String> DEFAULTS = List.of(
      "fsname=shoalfs",
      "subtype=shoal",
      "allow_other",
      "default_permissions",
      "big_writes",
      "max_read=131072",
      "max_write=131072",
      // st_ino is the ShoalFS inode, so tar, rsync -H and cp -a see hard links as one file.
      "use_ino",
      // libfuse2's high-level API gives each path of a hard-linked file its own kernel node, so
      // a cached attribute of one path (nlink, size) cannot be invalidated by a change made
      // through another: attributes are not cached in the kernel; names are, briefly.
      "attr_timeout=0",
      "entry_timeout=1");

  public MountOptions {
    options = List.copyOf(options);
  }

  public static MountOptions defaults() {
    return new MountOptions(DEFAULTS);
  }

  /** The arguments for jnr-fuse's mount: {@code -o a,b,c}. */
  public String[] toArgs() {
    return options.isEmpty() ? new String[0] : new String[] {"-o", String.join(",", options)};
  }
}
