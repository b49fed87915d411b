package io.shoalfs.server.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.shoalfs.proto.Status;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class DataFailuresTest {

  @Test
  void mapsEachFailureToItsStatus() {
    assertEquals(Status.CORRUPT, DataFailures.statusOf(new CorruptChunkException(1, 0, 3, "x")));
    assertEquals(Status.EINVAL, DataFailures.statusOf(new IllegalArgumentException("x")));
    // What FileChannel.write throws on a full disk, and what Files.* throws.
    assertEquals(Status.ENOSPC, DataFailures.statusOf(new IOException("No space left on device")));
    assertEquals(Status.ENOSPC, DataFailures.statusOf(
        new FileSystemException("/d/ab/cd/x.chunk", null, "No space left on device")));
    assertEquals(Status.ENOSPC, DataFailures.statusOf(
        new CompletionException(new IOException("wrapped", new IOException(
            "No space left on device")))));
    assertEquals(Status.EIO, DataFailures.statusOf(new IOException("Input/output error")));
    assertEquals(Status.INTERNAL, DataFailures.statusOf(new NullPointerException()));
    assertEquals("Input/output error",
        DataFailures.response(new IOException("Input/output error")).getError());
  }
}
