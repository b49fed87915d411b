package io.shoalfs.client;

/** The bits of {@code SetAttrOp.valid}, as shoal.proto defines them. */
final class SetAttrBits {
  static final int MODE = 1;
  static final int UID = 2;
  static final int GID = 4;
  static final int SIZE = 8;
  static final int ATIME = 16;
  static final int MTIME = 32;
  static final int ATIME_NOW = 64;
  static final int MTIME_NOW = 128;
  /** A read happened: the relatime rule for atime, applied by the metadata service. */
  static final int ACCESSED = 256;

  private SetAttrBits() {}
}
