package io.shoalfs.server.data;

import static io.shoalfs.server.data.ChainReplicationTest.bytes;
import static io.shoalfs.server.data.ChunkStoreTest.random;
import static io.shoalfs.server.data.DataNode.chunk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.ReplicateChunkOp;
import io.shoalfs.proto.Status;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node pulling a whole chunk from a peer over real RPC (several 4 MiB pieces). */
class ReplicateChunkTest {
  static final int CHUNK = 16 << 20;
  static final int BLOCK = 64 << 10;
  /** Three pieces, the last one short and ending mid-block. */
  static final int LENGTH = 2 * ChunkReplicator.PIECE_BYTES + 3 * BLOCK + 1234;

  @TempDir Path dirSource;
  @TempDir Path dirTarget;
  DownstreamClients sourceClients;
  DownstreamClients targetClients;
  DataNode source;
  DataNode target;

  @BeforeEach
  void start() throws Exception {
    sourceClients = new DownstreamClients();
    targetClients = new DownstreamClients();
    source = node("source", dirSource, sourceClients);
    target = node("target", dirTarget, targetClients);
  }

  @AfterEach
  void stop() throws Exception {
    source.close();
    target.close();
    sourceClients.close();
    targetClients.close();
  }

  static DataNode node(String id, Path dir, DownstreamClients clients) throws Exception {
    DataPlaneSettings settings = DataPlaneSettings.defaults(dir).withSizes(CHUNK, BLOCK);
    return DataNode.start(id, dir, settings, new ReplicaSettings(id, clients, null,
        Duration.ofHours(1), OrphanCollector.DEFAULT_GRACE));
  }

  @Test
  void copiesAMultiPieceChunkByteExactAndSetsTheVersion() throws Exception {
    byte[] data = random(21, LENGTH);
    source.store().write(3, 1, 0, ByteBuffer.wrap(data), false, 4);
    // The target holds an older, longer copy: it must be replaced, not patched.
    target.store().write(3, 1, 0, ByteBuffer.wrap(random(22, LENGTH + 5 * BLOCK)), false, 2);

    DataResponse r = target.call(replicate(3, 1, 5, source));
    assertEquals(Status.OK, r.getStatus(), r.getError());
    assertEquals(LENGTH, r.getLength());
    assertEquals(5, r.getVersion());

    assertEquals(5, target.store().version(3, 1));
    assertEquals(LENGTH, target.store().info(3, 1).length());
    assertArrayEquals(data, bytes(target.store().read(3, 1, 0, CHUNK)));
    assertEquals(5, source.store().version(3, 1), "the source was moved to the copy's version");
    assertEquals(2 * LENGTH + 2 * checksumBytes(LENGTH), source.store().usedBytes()
        + target.store().usedBytes());
    assertNoStagingLeft(dirTarget);
  }

  @Test
  void aCorruptSourceBlockFailsTheCopyAndKeepsNothing() throws Exception {
    source.store().write(4, 0, 0, ByteBuffer.wrap(random(23, LENGTH)), true, 1);
    // A block in the second piece: the first piece is already staged when it fails.
    ChunkStoreTest.flipByte(new ChunkLayout(dirSource).dataFile(new ChunkKey(4, 0)),
        ChunkReplicator.PIECE_BYTES + 7 * BLOCK + 3);

    DataResponse r = target.call(replicate(4, 0, 1, source));
    assertEquals(Status.CORRUPT, r.getStatus());
    assertTrue(r.getError().contains("block " + (ChunkReplicator.PIECE_BYTES / BLOCK + 7)),
        r.getError());
    assertNull(target.store().info(4, 0), "no copy, not even a partial one");
    assertEquals(0, target.store().usedBytes());
    assertNoStagingLeft(dirTarget);
  }

  @Test
  void aSourceNewerThanAskedIsStaleVersionAndKeepsNothing() throws Exception {
    source.store().write(5, 0, 0, ByteBuffer.wrap(random(24, 1000)), false, 7);
    DataResponse r = target.call(replicate(5, 0, 6, source));
    assertEquals(Status.STALE_VERSION, r.getStatus());
    assertEquals(7, r.getVersion());
    assertNull(target.store().info(5, 0));
    assertEquals(7, source.store().version(5, 0), "the source is left as it was");
  }

  /**
   * The copy's first step moves the source to the copy's version, durably: from then on a
   * writer with an older location is refused there (and so by its whole chain), and every
   * write the source took before is in the copy.
   */
  @Test
  void theSourceIsStampedFirstSoAWriteWithAnOlderLocationIsRefused() throws Exception {
    byte[] data = random(27, LENGTH);
    source.store().write(7, 0, 0, ByteBuffer.wrap(data), false, 2);
    DataResponse r = target.call(replicate(7, 0, 3, source));
    assertEquals(Status.OK, r.getStatus(), r.getError());
    assertEquals(3, source.store().version(7, 0));

    DataResponse late = source.call(ChainReplicationTest.write(7, 0, 0, random(28, 100), 2));
    assertEquals(Status.STALE_VERSION, late.getStatus(), late.getError());
    assertArrayEquals(data, bytes(source.store().read(7, 0, 0, CHUNK)));
    assertArrayEquals(data, bytes(target.store().read(7, 0, 0, CHUNK)));
  }

  @Test
  void anUnreachableSourceFailsAndKeepsNothing() throws Exception {
    source.close();
    DataResponse r = target.call(replicate(5, 0, 1, source));
    assertEquals(Status.UNAVAILABLE, r.getStatus(), r.getError());
    assertNull(target.store().info(5, 0));
    assertNoStagingLeft(dirTarget);
  }

  @Test
  void aNewerLocalCopyIsNotOverwritten() throws Exception {
    source.store().write(6, 0, 0, ByteBuffer.wrap(random(25, 1000)), false, 3);
    byte[] newer = random(26, 500);
    target.store().write(6, 0, 0, ByteBuffer.wrap(newer), false, 9);
    DataResponse r = target.call(replicate(6, 0, 3, source));
    assertEquals(Status.STALE_VERSION, r.getStatus());
    assertArrayEquals(newer, bytes(target.store().read(6, 0, 0, 1000)));
    assertEquals(9, target.store().version(6, 0));
    assertNoStagingLeft(dirTarget);
  }

  static long checksumBytes(long length) {
    return (length + BLOCK - 1) / BLOCK * 4;
  }

  static DataRequest replicate(long inode, int index, long version, DataNode from) {
    return DataRequest.newBuilder().setReplicate(ReplicateChunkOp.newBuilder()
        .setChunk(chunk(inode, index)).setVersion(version).setSource(from.address)).build();
  }

  static void assertNoStagingLeft(Path dir) throws Exception {
    Path staging = new ChunkLayout(dir).stagingRoot();
    if (Files.exists(staging)) {
      try (Stream<Path> files = Files.walk(staging)) {
        assertEquals(1, files.count(), "staging holds nothing but itself");
      }
    }
  }
}
