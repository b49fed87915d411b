package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import io.shoalfs.localread.LocalReadRequest;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberState;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32C;
import jnr.constants.platform.OpenFlags;
import jnr.posix.POSIXFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount's side of short-circuit local reads, with chunk files written here in the servers'
 * format and descriptors opened here, as the server would hand them over: which requests go
 * out, what is verified, and when the network must answer instead.
 */
class ShortCircuitReadsTest {
  static final int BLOCK = 4096;
  static final ChunkId CHUNK = ChunkId.newBuilder().setInode(9).setIndex(0).build();

  @TempDir Path dir;
  Path data;
  Path crcs;
  byte[] bytes;
  /** The requests the fake server got, in order. */
  final List<LocalReadRequest> asked = new ArrayList<>();
  /** Whether the fake server hands over descriptors (false: it refuses). */
  boolean serving = true;
  ShortCircuitReads reads;
  MemberView view;

  @BeforeEach
  void setUp() throws IOException {
    Epoll.ensureAvailability();
    data = dir.resolve("copy.chunk");
    crcs = dir.resolve("copy.crc");
    bytes = new byte[3 * BLOCK + 123]; // a short last block
    new Random(1).nextBytes(bytes);
    writeCopy(bytes);
    Path socket = dir.resolve("s1.sock");
    Files.writeString(Path.of(socket + LocalReadRequest.TOKEN_SUFFIX), "t0ken");
    view = MemberView.of(List.of(
        member("s1", socket.toString(), "t0ken"),
        member("s2", dir.resolve("s2.sock").toString(), "other"))); // no token file: not here
    reads = ShortCircuitReads.using(BLOCK, (path, request) -> {
      asked.add(request);
      return serving ? Optional.of(new FileDescriptor[] {open(data), open(crcs)})
          : Optional.empty();
    }, new LocalServers());
  }

  @Test
  void aLocalReplicaAtTheExpectedVersionIsReadVerifiedWithOneRequest() {
    ByteString first = reads.read(CHUNK, 100, 2 * BLOCK, location(7, "s2", "s1"), view)
        .orElseThrow();
    assertArrayEquals(slice(100, 2 * BLOCK), first.toByteArray());
    ByteString tail = reads.read(CHUNK, 3 * BLOCK, BLOCK, location(7, "s2", "s1"), view)
        .orElseThrow();
    assertArrayEquals(slice(3 * BLOCK, 123), tail.toByteArray(), "short past the copy's end");
    assertEquals(List.of(new LocalReadRequest(9, 0, 7)), asked, "descriptors kept per chunk");
    assertEquals(2, reads.counters().served.get());
  }

  @Test
  void noReplicaOnThisHostMeansNoRequest() {
    assertTrue(reads.read(CHUNK, 0, BLOCK, location(7, "s2"), view).isEmpty());
    assertEquals(List.of(), asked);
  }

  @Test
  void aRefusalGoesToTheNetworkAndIsNotAskedAgainAtOnce() {
    serving = false;
    assertTrue(reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).isEmpty());
    assertTrue(reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).isEmpty());
    assertEquals(1, asked.size());
    assertEquals(1, reads.counters().refused.get());
  }

  @Test
  void aNewVersionInTheLocationAsksTheServerAgain() {
    reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).orElseThrow();
    reads.read(CHUNK, 0, BLOCK, location(8, "s1"), view).orElseThrow();
    assertEquals(List.of(new LocalReadRequest(9, 0, 7), new LocalReadRequest(9, 0, 8)), asked);
  }

  @Test
  void aBlockThatFailsItsChecksumIsNeverReturnedAndTheCopyIsReopened() throws IOException {
    reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).orElseThrow();
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      f.seek(BLOCK + 5);
      f.write(bytes[BLOCK + 5] ^ 0xff); // rot in the second block, CRCs untouched
    }
    assertTrue(reads.read(CHUNK, BLOCK, 10, location(7, "s1"), view).isEmpty());
    assertEquals(1, reads.counters().fallbacks.get());
    // The first block is intact: served again, through a fresh request (the copy was dropped).
    reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).orElseThrow();
    assertEquals(2, asked.size());
  }

  @Test
  void aCopyReplacedOnDiskIsNotReadThroughOldDescriptors() throws IOException {
    reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).orElseThrow();
    byte[] fresh = new byte[bytes.length];
    new Random(2).nextBytes(fresh);
    // As the server installs a copy the healer pulled: new files renamed over the old ones.
    Path stagedData = dir.resolve("staged.chunk");
    Files.write(stagedData, fresh);
    Files.move(stagedData, data, StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    Path stagedCrcs = dir.resolve("staged.crc");
    Files.write(stagedCrcs, crcsOf(fresh));
    Files.move(stagedCrcs, crcs, StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    assertTrue(reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).isEmpty(),
        "the old files have no name any more");
    ByteString again = reads.read(CHUNK, 0, BLOCK, location(7, "s1"), view).orElseThrow();
    assertArrayEquals(java.util.Arrays.copyOf(fresh, BLOCK), again.toByteArray());
  }

  @Test
  void aRetiredCopyClosesItsDescriptorsOnlyAfterItsLastReader() throws IOException {
    LocalChunkCopy copy = new LocalChunkCopy("s1", 7, BLOCK, open(data), open(crcs));
    assertTrue(copy.acquire());
    copy.retire();
    assertFalse(copy.isClosed(), "a reader is still using it");
    assertFalse(copy.acquire(), "no new readers once retired");
    copy.release();
    assertTrue(copy.isClosed());
  }

  @Test
  void aSmallReadOpensTheCopyOnlyWhenTheChunkWasReadBefore() {
    ShortCircuitReads smallOnNetwork = ShortCircuitReads.using(BLOCK, 2 * BLOCK,
        (path, request) -> {
          asked.add(request);
          return Optional.of(new FileDescriptor[] {open(data), open(crcs)});
        }, new LocalServers());
    assertTrue(smallOnNetwork.read(CHUNK, 0, BLOCK, location(7, "s1"), view).isEmpty(),
        "a chunk's first small read is the network's");
    assertEquals(List.of(), asked);
    assertArrayEquals(slice(0, BLOCK),
        smallOnNetwork.read(CHUNK, 0, BLOCK, location(7, "s1"), view).orElseThrow().toByteArray(),
        "read again: local");
    ChunkId other = CHUNK.toBuilder().setIndex(1).build();
    assertTrue(smallOnNetwork.read(other, 0, 2 * BLOCK,
        location(7, "s1").toBuilder().setChunk(other).build(), view).isPresent(),
        "a large read opens at once");
    assertEquals(2, asked.size());
  }

  @Test
  void offReadsNothingLocally() {
    ShortCircuitReads off = ShortCircuitReads.disabled();
    assertTrue(off.read(CHUNK, 0, BLOCK, location(7, "s1"), view).isEmpty());
    assertFalse(off.enabled());
  }

  private byte[] slice(int from, int length) {
    return java.util.Arrays.copyOfRange(bytes, from, from + length);
  }

  private void writeCopy(byte[] content) throws IOException {
    Files.write(data, content);
    Files.write(crcs, crcsOf(content));
  }

  private static byte[] crcsOf(byte[] content) {
    int blocks = (content.length + BLOCK - 1) / BLOCK;
    ByteBuffer out = ByteBuffer.allocate(4 * blocks);
    for (int b = 0; b < blocks; b++) {
      CRC32C crc = new CRC32C();
      crc.update(content, b * BLOCK, Math.min(BLOCK, content.length - b * BLOCK));
      out.putInt((int) crc.getValue());
    }
    return out.array();
  }

  private static FileDescriptor open(Path file) {
    int fd = POSIXFactory.getNativePOSIX().open(file.toString(), OpenFlags.O_RDONLY.intValue(), 0);
    if (fd < 0) {
      throw new IllegalStateException("cannot open " + file);
    }
    return new FileDescriptor(fd);
  }

  private static ChunkLocation location(long version, String... replicas) {
    return ChunkLocation.newBuilder().setChunk(CHUNK).setVersion(version)
        .addAllReplicas(List.of(replicas)).build();
  }

  private static MemberInfo member(String id, String socket, String token) {
    return MemberInfo.newBuilder().setId(id).setAddress("127.0.0.1:1").setState(MemberState.UP)
        .setLocalReadSocket(socket).setLocalReadToken(token).build();
  }
}
