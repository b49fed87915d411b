package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** What the tests (and the bench) of real in-JVM Raft groups share. */
final class RaftGroupSupport {
  private RaftGroupSupport() {}

  /** Submits {@code request} and returns its answer, which must be OK. */
  static MetaResponse ok(RaftControlPlane plane, MetaRequest request) throws Exception {
    MetaResponse response = plane.submit(request).get(30, TimeUnit.SECONDS);
    assertEquals(Status.OK, response.getStatus(), response.getError());
    return response;
  }

  /** Polls {@code condition} until it holds; fails after {@code timeout}. */
  static void waitFor(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout);
      }
      TimeUnit.MILLISECONDS.sleep(20); // the poll interval; the deadline bounds the wait
    }
  }

  /** A loopback port nobody listens on now. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
