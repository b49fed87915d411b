package io.shoalfs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.shoalfs.cluster.ClusterSettingsMismatch;
import io.shoalfs.cluster.ClusterSettingsRecord;
import io.shoalfs.cluster.EmbeddedEtcd;
import io.shoalfs.cluster.EtcdClients;
import io.shoalfs.proto.ClusterSettings;
import io.shoalfs.server.topology.ConvergedTopology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The chunk size, block size and replication factor are fixed when the cluster is formed: a
 * server settles its flags with the record in a real etcd before it builds anything.
 */
class ClusterSettingsCheckTest {
  private static final String PEERS = "s1@127.0.0.1:1,s2@127.0.0.1:2,s3@127.0.0.1:3";

  private EmbeddedEtcd etcd;
  private Client client;
  private ClusterSettingsRecord record;

  @BeforeEach
  void startEtcd() throws Exception {
    etcd = EmbeddedEtcd.launch();
    client = EtcdClients.connect(etcd.endpoint());
    record = new ClusterSettingsRecord(client, Duration.ofSeconds(20));
  }

  @AfterEach
  void stopEtcd() {
    client.close();
    etcd.close();
  }

  private ServerConfig config(String id, String peers, String... flags) {
    List<String> args = new ArrayList<>(List.of("--id", id, "--raft-port", "1", "--rpc-port", "2",
        "--data-dir", "unused", "--etcd", etcd.endpoint(), "--peers", peers));
    args.addAll(List.of(flags));
    // As the server reads it: converged caps the factor at the number of --peers.
    return new ConvergedTopology().check(ServerConfig.parse(args.toArray(String[]::new)));
  }

  private ServerConfig settle(String id, String... flags) throws Exception {
    return ClusterSettingsCheck.settle(config(id, PEERS, flags), record);
  }

  @Test
  void theFirstServerRecordsItsFlagsAndLaterOnesTakeThem() throws Exception {
    ServerConfig first = settle("s1", "--chunk-size", "1048576", "--block-size", "4096",
        "--replication", "2");
    ClusterSettings recorded = record.read().orElseThrow();
    assertEquals(1048576, recorded.getChunkSize());
    assertEquals(4096, recorded.getBlockSize());
    assertEquals(2, recorded.getReplication());
    assertEquals("s1", recorded.getFormedBy());
    assertEquals(1048576, first.chunkSizeBytes());

    // No flags: the cluster's values, not the defaults.
    ServerConfig later = settle("s2");
    assertEquals(1048576, later.chunkSizeBytes());
    assertEquals(4096, later.blockSizeBytes());
    assertEquals(2, later.replication());
    assertEquals(2, later.minReplicas());
    assertEquals(Optional.of(recorded), record.read(), "a later server records nothing");
  }

  @Test
  void theDefaultsAreRecordedWhenTheFirstServerGivesNoFlags() throws Exception {
    ServerConfig first = settle("s1");
    ClusterSettings recorded = record.read().orElseThrow();
    assertEquals(ServerConfig.DEFAULT_CHUNK_SIZE, recorded.getChunkSize());
    assertEquals(ServerConfig.DEFAULT_BLOCK_SIZE, recorded.getBlockSize());
    assertEquals(3, recorded.getReplication());
    assertEquals(3, first.replication());
  }

  @Test
  void flagsThatAgreeWithTheClusterAreAccepted() throws Exception {
    settle("s1", "--chunk-size", "1048576", "--block-size", "4096");
    ServerConfig same = settle("s3", "--chunk-size", "1048576", "--block-size", "4096",
        "--replication", "3");
    assertEquals(1048576, same.chunkSizeBytes());
    assertEquals(3, same.replication());
  }

  @Test
  void anotherChunkSizeIsRefusedNamingBothValues() throws Exception {
    settle("s1", "--chunk-size", "1048576", "--block-size", "4096");
    ClusterSettingsMismatch e = assertThrows(ClusterSettingsMismatch.class,
        () -> settle("s3", "--chunk-size", "2097152"));
    assertTrue(e.getMessage().startsWith("--chunk-size 2097152 disagrees with the cluster's"
        + " chunk size 1048576, fixed when s1 formed the cluster ("), e.getMessage());
    assertTrue(e.getMessage().endsWith("leave --chunk-size out to take the cluster's value"),
        e.getMessage());
  }

  @Test
  void anotherBlockSizeIsRefused() throws Exception {
    settle("s1");
    ClusterSettingsMismatch e = assertThrows(ClusterSettingsMismatch.class,
        () -> settle("s2", "--block-size", "4096"));
    assertTrue(e.getMessage().startsWith("--block-size 4096 disagrees with the cluster's block"
        + " size 65536"), e.getMessage());
  }

  @Test
  void replicationIsComparedAsCappedAtThePeers() throws Exception {
    settle("s1"); // 3, the default, with 3 peers
    assertEquals(3, settle("s2", "--replication", "5").replication(), "5 means 3 with 3 peers");
    ClusterSettingsMismatch fewer = assertThrows(ClusterSettingsMismatch.class,
        () -> settle("s2", "--replication", "2"));
    assertTrue(fewer.getMessage().startsWith("--replication 2 disagrees with the cluster's"
        + " replication factor 3"), fewer.getMessage());
    ClusterSettingsMismatch more = assertThrows(ClusterSettingsMismatch.class,
        () -> ClusterSettingsCheck.settle(config("s4", PEERS + ",s4@127.0.0.1:4",
            "--replication", "5"), record));
    assertTrue(more.getMessage().startsWith("--replication 5 (4 in this topology) disagrees with"
        + " the cluster's replication factor 3"), more.getMessage());
  }

  @Test
  void aChunkSizeNotMadeOfWholeBlocksIsNeverRecorded() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> settle("s1", "--chunk-size", "1000000", "--block-size", "4096"));
    assertEquals("--chunk-size 1000000 is not a multiple of --block-size 4096", e.getMessage());
    assertEquals(Optional.empty(), record.read());
  }
}
