package io.shoalfs.client;

import static io.shoalfs.client.ChunkedIoTest.bytesOf;
import static io.shoalfs.client.ChunkedIoTest.buffer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class XattrBuffersTest {
  private final byte[] value = "hello".getBytes(StandardCharsets.UTF_8);

  @Test
  void sizeZeroAsksForTheLength() throws Exception {
    assertEquals(5, XattrBuffers.copyOut(value, null, 0));
  }

  @Test
  void aBufferTooSmallIsErange() {
    RpcException e = assertThrows(RpcException.class,
        () -> XattrBuffers.copyOut(value, buffer(4), 4));
    assertEquals(Status.ERANGE, e.status());
  }

  @Test
  void aLargeEnoughBufferGetsTheValue() throws Exception {
    KernelBuffer buf = buffer(16);
    assertEquals(5, XattrBuffers.copyOut(value, buf, 16));
    assertArrayEquals(value, bytesOf(buf, 5));
  }

  @Test
  void namesAreEachNulTerminated() {
    assertArrayEquals("user.a\0user.bc\0".getBytes(StandardCharsets.UTF_8),
        XattrBuffers.nameList(List.of("user.a", "user.bc")));
    assertEquals(0, XattrBuffers.nameList(List.of()).length);
  }
}
