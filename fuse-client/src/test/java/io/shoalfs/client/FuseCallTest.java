package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shoalfs.proto.Status;
import io.shoalfs.rpc.Errno;
import io.shoalfs.rpc.RpcException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class FuseCallTest {
  private final FuseCall calls = new FuseCall();

  @Test
  void successPassesTheResultThrough() {
    assertEquals(0, calls.run("getattr", "/a", () -> 0));
    assertEquals(4096, calls.run("read", "/a", () -> 4096));
  }

  @Test
  void aStatusBecomesItsNegativeErrno() {
    assertEquals(-Errno.ENOENT, calls.run("getattr", "/a", () -> {
      throw new RpcException(Status.ENOENT, "no /a");
    }));
    assertEquals(-Errno.ERANGE, calls.run("getxattr", "/a", () -> {
      throw new RpcException(Status.ERANGE, "small buffer");
    }));
    assertEquals(-Errno.ETIMEDOUT, calls.run("read", "/a", () -> {
      throw new RpcException(Status.DEADLINE_EXCEEDED, "");
    }));
  }

  @Test
  void aStatusInsideAFutureFailureIsStillItsErrno() {
    assertEquals(-Errno.ENOTEMPTY, calls.run("rmdir", "/d", () -> {
      throw new CompletionException(new RpcException(Status.ENOTEMPTY, ""));
    }));
    assertEquals(-Errno.ETIMEDOUT, calls.run("mkdir", "/d", () -> {
      CompletableFuture<Integer> f = new CompletableFuture<>();
      f.completeExceptionally(new RpcException(Status.UNAVAILABLE, "no quorum"));
      try {
        return f.get();
      } catch (ExecutionException e) {
        throw e;
      }
    }));
  }

  @Test
  void anythingElseIsEio() {
    assertEquals(-Errno.EIO, calls.run("write", "/a", () -> {
      throw new IllegalStateException("bug");
    }));
    assertEquals(-Errno.EIO, calls.run("write", "/a", () -> {
      throw new StackOverflowError();
    }));
    assertEquals(-Errno.EIO, calls.run("write", "/a", () -> null), "no result is a bug too");
    assertEquals(-Errno.EIO, calls.run("write", "/a", () -> {
      throw new RpcException(Status.OK, "an OK status is never a failure's errno");
    }));
  }

  @Test
  void callsAndFailuresAreCountedPerOperation() {
    calls.run("open", "/a", () -> 0);
    calls.run("open", "/b", () -> {
      throw new RpcException(Status.EACCES, "");
    });
    calls.run("open", "/c", () -> -Errno.EISDIR);
    calls.run("read", "/a", () -> 10);

    FuseCall.OpStats open = calls.stats().get("open");
    assertEquals(3, open.calls());
    assertEquals(2, open.failures());
    assertEquals(1, calls.stats().get("read").calls());
    assertEquals(0, calls.stats().get("read").failures());
  }
}
