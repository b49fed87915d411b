package io.shoalfs.client;

/** An absolute path as FUSE hands it over, split into its parent directory and last name. */
record FusePath(String parent, String name) {
  static FusePath of(String path) {
    int slash = path.lastIndexOf('/');
    if (slash < 0 || path.length() == 1) {
      throw new IllegalArgumentException("not a path below the root: " + path);
    }
    return new FusePath(slash == 0 ? "/" : path.substring(0, slash), path.substring(slash + 1));
  }
}
