package io.shoalfs.server.meta;

/** Reads from an ordered key/value store whose keys sort as unsigned bytes. */
public interface KvReader {

  /** The value stored under {@code key}, or null. */
  byte[] get(byte[] key);

  /**
   * Visits, in key order, every key that starts with {@code prefix} and is not less than
   * {@code from}, until the visitor returns false.
   */
  void scan(byte[] prefix, byte[] from, Visitor visitor);

  /** Receives the entries of a scan; returns false to stop it. */
  @FunctionalInterface
  interface Visitor {
    boolean visit(byte[] key, byte[] value);
  }
}
