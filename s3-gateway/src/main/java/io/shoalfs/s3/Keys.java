package io.shoalfs.s3;

import java.util.Comparator;

/**
 * How S3 orders keys: by their UTF-8 bytes, which is the order of their code points (not of
 * Java's UTF-16 units, which differ for characters above U+FFFF).
 */
final class Keys {
  static final Comparator<String> ORDER = Keys::compare;

  private Keys() {}

  static int compare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  static boolean after(String a, String b) {
    return compare(a, b) > 0;
  }
}
