package io.shoalfs.client;

import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for a transport future and turns every non-OK outcome into an {@link RpcException}, so
 * the FUSE layer has exactly one kind of failure to translate (through {@code Errno.of}).
 */
final class Replies {
  private Replies() {}

  /**
   * Waits at most {@code timeout}: the transport has its own deadline, this one only guarantees
   * that a FUSE thread (and the process in the kernel behind it) is never parked forever.
   */
  static <T> T await(CompletableFuture<T> future, Duration timeout) throws RpcException {
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RpcException rpc) {
        throw rpc;
      }
      throw new RpcException(Status.INTERNAL, String.valueOf(cause));
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new RpcException(Status.DEADLINE_EXCEEDED, "no answer within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RpcException(Status.INTERNAL, "interrupted while waiting for an answer");
    }
  }

  /** No answer came (the member cannot be reached, or did not answer in time). */
  static boolean isUnreachable(RpcException e) {
    return e.status() == Status.UNAVAILABLE || e.status() == Status.DEADLINE_EXCEEDED;
  }

  static MetaResponse ok(MetaResponse response) throws RpcException {
    if (response.getStatus() != Status.OK) {
      throw new RpcException(response.getStatus(), response.getError());
    }
    return response;
  }

  static DataResponse ok(DataResponse response) throws RpcException {
    if (response.getStatus() != Status.OK) {
      throw new RpcException(response.getStatus(), response.getError());
    }
    return response;
  }
}
