package io.shoalfs.rpc;

import io.shoalfs.proto.Status;

/** A call that did not succeed, with the typed status that says why. */
public final class RpcException extends Exception {
  private final Status status;

  public RpcException(Status status, String message) {
    super(status + (message == null || message.isEmpty() ? "" : ": " + message));
    this.status = status;
  }

  public Status status() {
    return status;
  }

  public int errno() {
    return Errno.of(status);
  }
}
