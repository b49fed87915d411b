package io.shoalfs.server.meta;

/**
 * The storage engine failed (disk error, corruption). Not a namespace outcome: those are
 * statuses. A replica that sees this cannot apply the log any further.
 */
public final class KvException extends RuntimeException {
  public KvException(String message, Throwable cause) {
    super(message, cause);
  }
}
