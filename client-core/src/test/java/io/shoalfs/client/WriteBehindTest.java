package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Write-back against the in-memory chunk store: 1 KiB chunks, 64-byte buffers, room for 2. */
class WriteBehindTest {
  private static final long INODE = 9;
  private static final Caller ALICE = Caller.newBuilder().setUid(1000).build();
  private final ChunkStoreTransport transport = new ChunkStoreTransport(1024);
  private final MetaClient meta = new MetaClient(transport, Duration.ofSeconds(5), 1);
  private final ChunkedIo io = new ChunkedIo(transport, new ChunkLocations(meta, 100), 1024,
      Duration.ofSeconds(5));
  private final FileHandleTable handles = new FileHandleTable();
  private final WriteBehind writeBehind =
      new WriteBehind(io, handles, new WriteBackSettings(64, 128));

  @AfterEach
  void close() {
    writeBehind.close();
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (seed + i);
    }
    return b;
  }

  private long writesSent() {
    synchronized (transport) {
      return transport.dataRequests.stream().filter(DataRequest::hasWrite).count();
    }
  }

  private byte[] stored(int length) {
    byte[] chunk = transport.copyOf("m1", INODE, 0);
    return chunk == null ? new byte[0] : Arrays.copyOf(chunk, length);
  }

  @Test
  void contiguousSmallWritesGoAsOneRequestOnDrain() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    for (int i = 0; i < 6; i++) {
      writeBehind.write(f, i * 10L, bytes(10, i * 10), 10);
    }
    assertEquals(0, writesSent(), "nothing sent before the buffer fills or drains");
    writeBehind.drain(f);
    assertEquals(1, writesSent());
    assertArrayEquals(bytes(60, 0), stored(60));
  }

  @Test
  void aFullBufferIsSentWithoutWaitingForADrain() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    for (int i = 0; i < 8; i++) {
      writeBehind.write(f, i * 8L, bytes(8, i * 8), 8); // 64 bytes: exactly one buffer
    }
    writeBehind.drain(f);
    assertEquals(1, writesSent());
    assertArrayEquals(bytes(64, 0), stored(64));
  }

  @Test
  void aLaterWriteThroughAnotherHandleWinsOverAnEarlierBufferedOne() throws Exception {
    OpenFile a = handles.open(INODE, 0, ALICE);
    OpenFile b = handles.open(INODE, 0, ALICE);
    writeBehind.write(a, 0, bytes(20, 1), 20);
    writeBehind.write(b, 5, bytes(5, 100), 5); // drains a first, then buffers its own
    writeBehind.drain(b);
    writeBehind.drain(a);
    byte[] expected = bytes(20, 1);
    System.arraycopy(bytes(5, 100), 0, expected, 5, 5);
    assertArrayEquals(expected, stored(20));
  }

  @Test
  void aWriteThatDoesNotContinueTheBufferSendsItFirst() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    writeBehind.write(f, 0, bytes(10, 1), 10);
    writeBehind.write(f, 2, bytes(3, 50), 3); // an overwrite inside what is buffered
    writeBehind.drain(f);
    byte[] expected = bytes(10, 1);
    System.arraycopy(bytes(3, 50), 0, expected, 2, 3);
    assertArrayEquals(expected, stored(10));
  }

  @Test
  void withoutRoomForABufferWritesGoStraightThrough() throws Exception {
    OpenFile a = handles.open(INODE, 0, ALICE);
    OpenFile b = handles.open(INODE + 1, 0, ALICE);
    OpenFile c = handles.open(INODE + 2, 0, ALICE);
    writeBehind.write(a, 0, bytes(4, 0), 4);
    writeBehind.write(b, 0, bytes(4, 0), 4); // the budget holds two buffers
    writeBehind.write(c, 0, bytes(4, 0), 4);
    assertEquals(1, writesSent(), "the third handle found no room");
    writeBehind.drain(a);
    writeBehind.drain(b);
    assertEquals(3, writesSent());
    writeBehind.write(c, 4, bytes(4, 4), 4); // room again
    assertEquals(3, writesSent());
  }

  @Test
  void aDrainWithNothingInFlightSendsFromTheDrainingThread() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    writeBehind.write(f, 0, bytes(40, 0), 40);
    writeBehind.write(f, 40, bytes(24, 40), 24); // fills the buffer: sent in the background
    writeBehind.write(f, 64, bytes(10, 64), 10);
    writeBehind.drain(f); // waits for the first, sends the rest
    writeBehind.write(f, 74, bytes(10, 74), 10);
    writeBehind.drain(f); // a small file's close: nothing in flight

    String self = Thread.currentThread().getName();
    synchronized (transport) {
      assertEquals(List.of("write-behind", "write-behind", self), transport.dataThreads);
    }
    assertArrayEquals(bytes(84, 0), stored(84));
  }

  @Test
  void aFailedSendFailsTheHandleFromThenOn() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    writeBehind.write(f, 0, bytes(10, 1), 10);
    transport.failWith = Status.ENOSPC;
    RpcException e = assertThrows(RpcException.class, () -> writeBehind.drain(f));
    assertEquals(Status.ENOSPC, e.status());
    transport.failWith = Status.OK;
    assertThrows(RpcException.class, () -> writeBehind.write(f, 10, bytes(1, 0), 1));
    assertThrows(RpcException.class, () -> writeBehind.drain(f), "close reports it too");
  }

  @Test
  void largeWritesBypassTheBuffer() throws Exception {
    OpenFile f = handles.open(INODE, 0, ALICE);
    writeBehind.write(f, 0, bytes(100, 3), 100);
    assertEquals(1, writesSent());
    assertArrayEquals(bytes(100, 3), stored(100));
  }

  @Test
  void sequentialBuffersGoTogetherAndAnOverwriteStillLandsLast() throws Exception {
    WriteBehind deep = new WriteBehind(io, handles, new WriteBackSettings(64, 64 * 8));
    try {
      OpenFile f = handles.open(INODE, 0, ALICE);
      for (int i = 0; i < 10; i++) {
        deep.write(f, i * 32L, bytes(32, i * 32), 32); // every second one fills a buffer
      }
      deep.write(f, 0, bytes(10, 99), 10); // does not continue: waits for all five first
      deep.drain(f);
      assertEquals(6, writesSent());
      byte[] expected = bytes(5 * 64, 0);
      System.arraycopy(bytes(10, 99), 0, expected, 0, 10);
      assertArrayEquals(expected, stored(5 * 64));
    } finally {
      deep.close();
    }
  }
}
