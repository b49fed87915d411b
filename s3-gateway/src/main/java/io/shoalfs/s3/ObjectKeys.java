package io.shoalfs.s3;

import java.nio.charset.StandardCharsets;

/**
 * Which bucket names and object keys map onto the namespace. A bucket is a directory of the
 * root, so its name follows S3's rules (3 to 63 of a-z 0-9 . -, no leading dot: the gateway's
 * own directory starts with one). A key {@code a/b/c} is the file {@code a/b/c} of its bucket,
 * so each of its '/'-separated parts must be a file name: not empty, not "." or "..", at most
 * 255 bytes. A key ending in '/' names a directory (what S3 consoles make as "folders").
 */
final class ObjectKeys {
  static final int MAX_KEY_BYTES = 1024;
  static final int MAX_NAME_BYTES = 255;

  private ObjectKeys() {}

  static boolean isValidBucket(String name) {
    return name.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") && !name.contains("..");
  }

  /** Checks {@code key}; InvalidArgument naming what is wrong with it. */
  static void checkKey(String key) throws S3Exception {
    if (key.isEmpty()) {
      throw S3Errors.invalidArgument("The object key is empty");
    }
    if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
      throw new S3Exception("KeyTooLongError", 400, "Your key is too long");
    }
    String path = key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
    for (String part : path.split("/", -1)) {
      if (!isValidComponent(part)) {
        throw S3Errors.invalidArgument("This gateway stores objects as files: every part of the"
            + " key between '/' must be a file name (not empty, not . or .., no NUL, at most "
            + MAX_NAME_BYTES + " bytes): " + key);
      }
    }
  }

  static boolean isValidComponent(String name) {
    return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('\0') < 0
        && name.getBytes(StandardCharsets.UTF_8).length <= MAX_NAME_BYTES;
  }

  /** Whether {@code key} names a directory rather than a file. */
  static boolean isDirectoryKey(String key) {
    return key.endsWith("/");
  }
}
