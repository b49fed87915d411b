package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Read-ahead against the in-memory chunk store: 1 KiB chunks, 64-byte blocks, 4 ahead. */
class ReadAheadTest {
  private static final long INODE = 11;
  private static final int READ = 32;
  private static final Caller ALICE = Caller.newBuilder().setUid(1000).build();
  private final ChunkStoreTransport transport = new ChunkStoreTransport(1024);
  private final MetaClient meta = new MetaClient(transport, Duration.ofSeconds(5), 1);
  private final ChunkedIo io = new ChunkedIo(transport, new ChunkLocations(meta, 100), 1024,
      Duration.ofSeconds(5));
  private final FileHandleTable handles = new FileHandleTable();
  private final WriteBehind writeBehind =
      new WriteBehind(io, handles, new WriteBackSettings(64, 128));
  private final ReadAhead readAhead =
      new ReadAhead(io, writeBehind, new ReadAheadSettings(64, 4, 64 * 6));

  @AfterEach
  void close() {
    writeBehind.close();
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  private long readsSent() {
    synchronized (transport) {
      return transport.dataRequests.stream().filter(DataRequest::hasRead).count();
    }
  }

  private byte[] read(OpenFile f, long offset, int size, long fileSize) throws Exception {
    KernelBuffer out = ChunkedIoTest.buffer(size);
    int n = readAhead.read(f, offset, size, out, () -> fileSize);
    return ChunkedIoTest.bytesOf(out, n);
  }

  private static byte[] slice(byte[] b, long from, int n) {
    byte[] out = new byte[(int) Math.max(0, Math.min(n, b.length - from))];
    if (out.length == 0) {
      return out;
    }
    System.arraycopy(b, (int) from, out, 0, out.length);
    return out;
  }

  @Test
  void aSequentialReaderGetsTheSameBytesInFewerRequests() throws Exception {
    byte[] file = random(3000); // three chunks, the last one short
    io.write(INODE, 0, file, file.length, false);
    OpenFile f = handles.open(INODE, 0, ALICE);
    for (long at = 0; at < 3000 + READ; at += READ) {
      assertArrayEquals(slice(file, at, READ), read(f, at, READ, file.length), "at " + at);
    }
    long reads = readsSent();
    assertTrue(reads < 3000 / READ / 2 + 10, "blocks of 64 serve reads of 32: " + reads);
    readAhead.release(f.fh());
    assertEquals(0, readAhead.heldBlocks(), "a closed handle's blocks are given back");
  }

  @Test
  void randomReadsAreNotReadAhead() throws Exception {
    byte[] file = random(1024);
    io.write(INODE, 0, file, file.length, false);
    OpenFile f = handles.open(INODE, 0, ALICE);
    long before = readsSent();
    for (long at : new long[] {512, 0, 960, 128, 704, 320}) {
      assertArrayEquals(slice(file, at, READ), read(f, at, READ, file.length));
    }
    assertEquals(6, readsSent() - before, "one request per read, nothing ahead");
    assertEquals(0, readAhead.heldBlocks());
  }

  @Test
  void aWriteThroughThisMountIsSeenByTheNextRead() throws Exception {
    byte[] file = random(1024);
    io.write(INODE, 0, file, file.length, false);
    OpenFile reader = handles.open(INODE, 0, ALICE);
    OpenFile writer = handles.open(INODE, 0, ALICE);
    for (long at = 0; at < 4 * READ; at += READ) {
      read(reader, at, READ, file.length);
    }
    assertTrue(readAhead.heldBlocks() > 0, "the reader is read ahead of");
    // Buffered by write-behind, not yet on the servers: the read drains it and must not serve
    // the block read before.
    byte[] fresh = random(READ + 1);
    writeBehind.write(writer, 4 * READ, fresh, READ);
    readAhead.written(INODE);
    assertArrayEquals(slice(fresh, 0, READ), read(reader, 4 * READ, READ, file.length));
  }

  @Test
  void aFailedBlockLeavesTheReadToTheOrdinaryPath() throws Exception {
    byte[] file = random(1024);
    io.write(INODE, 0, file, file.length, false);
    OpenFile f = handles.open(INODE, 0, ALICE);
    read(f, 0, READ, file.length);
    transport.failWith = Status.EIO;
    // Requests blocks ahead, which fail, as does the read itself.
    assertThrows(RpcException.class, () -> read(f, READ, READ, file.length));
    transport.failWith = Status.OK;
    assertArrayEquals(slice(file, 2 * READ, READ), read(f, 2 * READ, READ, file.length));
  }

  @Test
  void memoryIsBoundedOverAllHandles() throws Exception {
    byte[] file = random(1024);
    io.write(INODE, 0, file, file.length, false);
    for (int h = 0; h < 3; h++) {
      OpenFile f = handles.open(INODE, 0, ALICE);
      for (long at = 0; at < 8 * READ; at += READ) {
        assertArrayEquals(slice(file, at, READ), read(f, at, READ, file.length));
      }
    }
    assertTrue(readAhead.heldBlocks() <= 6, "at most 6 blocks of 64: " + readAhead.heldBlocks());
  }
}
