package io.shoalfs.rpc;

import io.shoalfs.proto.Envelope;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/** A plain blocking socket for speaking bytes the well-behaved client never would. */
final class RawConnection implements AutoCloseable {
  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  RawConnection(int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(5_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** A 4-byte big-endian length followed by {@code body}. */
  static byte[] frame(byte[] body) {
    return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  void sendFrame(Envelope envelope) throws IOException {
    send(frame(envelope.toByteArray()));
  }

  void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  Envelope readFrame() throws IOException {
    int length = in.readInt();
    byte[] body = new byte[length];
    in.readFully(body);
    return Envelope.parseFrom(body);
  }

  /** The next byte, or -1 once the server has closed its side. */
  int read() throws IOException {
    return in.read();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
