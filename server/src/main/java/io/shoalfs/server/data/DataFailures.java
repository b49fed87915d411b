package io.shoalfs.server.data;

import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.io.IOException;
import java.util.concurrent.CompletionException;

/** The one place a data-plane failure becomes a typed status. */
final class DataFailures {
  private DataFailures() {}

  static DataResponse response(Throwable failure) {
    Throwable t = unwrap(failure);
    String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    DataResponse.Builder response = DataResponse.newBuilder().setStatus(statusOf(t))
        .setError(message);
    if (t instanceof StaleVersionException stale) {
      response.setVersion(stale.localVersion());
    }
    return response.build();
  }

  static Status statusOf(Throwable failure) {
    Throwable t = unwrap(failure);
    if (t instanceof CorruptChunkException) {
      return Status.CORRUPT;
    }
    if (t instanceof StaleVersionException) {
      return Status.STALE_VERSION;
    }
    if (t instanceof RpcException rpc) {
      return rpc.status(); // a peer's answer (replication), already typed
    }
    if (t instanceof IllegalArgumentException) {
      return Status.EINVAL;
    }
    if (isOutOfSpace(t)) {
      return Status.ENOSPC;
    }
    if (t instanceof IOException) {
      return Status.EIO;
    }
    return Status.INTERNAL;
  }

  /**
   * The JDK has no type for ENOSPC: it surfaces as an IOException (or FileSystemException)
   * carrying strerror's text, possibly as the cause of another exception.
   */
  static boolean isOutOfSpace(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String message = t.getMessage();
      if (message != null && (message.contains("No space left on device")
          || message.contains("Disk quota exceeded"))) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
