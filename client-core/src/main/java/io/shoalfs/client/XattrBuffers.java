package io.shoalfs.client;

import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The getxattr/listxattr buffer contract: a call with size 0 asks how many bytes are needed,
 * a buffer too small for the value is ERANGE, otherwise the value is copied and its length
 * returned.
 */
final class XattrBuffers {
  private XattrBuffers() {}

  static int copyOut(byte[] value, ReadTarget buf, long size) throws RpcException {
    if (size == 0) {
      return value.length;
    }
    if (size < value.length) {
      throw new RpcException(Status.ERANGE, value.length + " bytes needed, " + size + " given");
    }
    buf.put(0, value, 0, value.length);
    return value.length;
  }

  /** listxattr's format: every name followed by a NUL byte. */
  static byte[] nameList(List<String> names) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String name : names) {
      out.writeBytes(name.getBytes(StandardCharsets.UTF_8));
      out.write(0);
    }
    return out.toByteArray();
  }
}
