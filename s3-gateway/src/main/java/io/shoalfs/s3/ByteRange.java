package io.shoalfs.s3;

/**
 * One byte range of an object, {@code [first, last]} inclusive, as a Range header asks for it
 * ({@code bytes=0-99}, {@code bytes=100-}, {@code bytes=-100}). Like S3, a header that is not a
 * single well-formed byte range is ignored (the whole object is sent), and a range that starts
 * at or past the end is InvalidRange (416).
 */
record ByteRange(long first, long last) {

  long length() {
    return last - first + 1;
  }

  /** The Content-Range header of a 206 answer. */
  String contentRange(long size) {
    return "bytes " + first + "-" + last + "/" + size;
  }

  /**
   * The range {@code header} asks for within an object of {@code size} bytes; null when the
   * whole object is to be sent (no header, or one S3 ignores).
   */
  static ByteRange parse(String header, long size) throws S3Exception {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    if (!h.startsWith("bytes=") || h.indexOf(',') >= 0) {
      return null;
    }
    String spec = h.substring("bytes=".length()).trim();
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return null;
    }
    String from = spec.substring(0, dash).trim();
    String to = spec.substring(dash + 1).trim();
    if (!from.matches("[0-9]{0,18}") || !to.matches("[0-9]{0,18}")
        || (from.isEmpty() && to.isEmpty())) {
      return null;
    }
    if (from.isEmpty()) {
      long suffix = Long.parseLong(to);
      if (suffix == 0 || size == 0) {
        throw S3Errors.invalidRange(size);
      }
      return new ByteRange(Math.max(0, size - suffix), size - 1);
    }
    long first = Long.parseLong(from);
    long last = to.isEmpty() ? Long.MAX_VALUE : Long.parseLong(to);
    if (last < first) {
      return null;
    }
    if (first >= size) {
      throw S3Errors.invalidRange(size);
    }
    return new ByteRange(first, Math.min(last, size - 1));
  }
}
