package io.shoalfs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.shoalfs.proto.ClusterSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The cluster settings record against a real etcd process. */
class ClusterSettingsRecordTest {
  private static final Duration DEADLINE = Duration.ofSeconds(20);
  private static final ClusterSettings FIRST = settings("s1", 64 << 20, 64 << 10, 3);
  private static final ClusterSettings OTHER = settings("s2", 32 << 20, 4 << 10, 2);

  @RegisterExtension
  final EtcdPerTest etcd = new EtcdPerTest();

  private ClusterSettingsRecord record(Duration deadline) {
    Client c = etcd.connect();
    return new ClusterSettingsRecord(c, deadline);
  }

  private static ClusterSettings settings(String by, int chunk, int block, int replication) {
    return ClusterSettings.newBuilder().setChunkSize(chunk).setBlockSize(block)
        .setReplication(replication).setFormedBy(by).setFormedMs(1_700_000_000_000L).build();
  }

  @Test
  void theFirstServerRecordsWhatItProposes() throws Exception {
    ClusterSettingsRecord record = record(DEADLINE);
    assertEquals(Optional.empty(), record.read(), "nothing is recorded before formation");

    ClusterSettingsRecord.Formation formed = record.formOrRead(FIRST);

    assertTrue(formed.formedNow());
    assertEquals(FIRST, formed.settings());
    assertEquals(Optional.of(FIRST), record(DEADLINE).read(), "another client reads it back");
  }

  @Test
  void aLaterServerReadsTheRecordAndChangesNothing() throws Exception {
    record(DEADLINE).formOrRead(FIRST);

    ClusterSettingsRecord.Formation later = record(DEADLINE).formOrRead(OTHER);

    assertFalse(later.formedNow());
    assertEquals(FIRST, later.settings());
    assertEquals(Optional.of(FIRST), record(DEADLINE).read());
  }

  @Test
  void serversFormingAtOnceAllGetTheOneSetThatWasRecorded() throws Exception {
    int n = 6;
    List<ClusterSettingsRecord> records = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      records.add(record(DEADLINE));
    }
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<ClusterSettingsRecord.Formation>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ClusterSettingsRecord record = records.get(i);
        ClusterSettings mine = settings("s" + i, (i + 1) << 20, 4 << 10, 3);
        results.add(pool.submit(() -> {
          go.await();
          return record.formOrRead(mine);
        }));
      }
      go.countDown();
      int formed = 0;
      ClusterSettings agreed = null;
      for (Future<ClusterSettingsRecord.Formation> f : results) {
        ClusterSettingsRecord.Formation r = f.get(30, TimeUnit.SECONDS);
        formed += r.formedNow() ? 1 : 0;
        if (agreed == null) {
          agreed = r.settings();
        }
        assertEquals(agreed, r.settings(), "every server got the same settings back");
      }
      assertEquals(1, formed, "exactly one server formed the cluster");
      assertEquals(Optional.of(agreed), record(DEADLINE).read());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theRecordOutlivesAnEtcdRestart() throws Exception {
    record(DEADLINE).formOrRead(FIRST);
    etcd.process().stop();
    etcd.process().start();
    assertEquals(Optional.of(FIRST), record(DEADLINE).read());
  }

  @Test
  void aServerStartingBeforeEtcdWaitsForIt() throws Exception {
    ClusterSettingsRecord record = record(DEADLINE);
    etcd.process().stop();
    ExecutorService starter = Executors.newSingleThreadExecutor();
    try {
      Future<ClusterSettingsRecord.Formation> formed = starter.submit(() -> record.formOrRead(FIRST));
      etcd.process().start();
      assertEquals(FIRST, formed.get(30, TimeUnit.SECONDS).settings());
    } finally {
      starter.shutdownNow();
    }
  }

  @Test
  void withEtcdGoneACallFailsAtItsDeadlineSayingWhat() throws Exception {
    ClusterSettingsRecord record = record(Duration.ofSeconds(1));
    etcd.process().stop();
    IOException e = assertThrows(IOException.class, record::read);
    assertTrue(e.getMessage().startsWith("reading the cluster settings in etcd failed for 1 s"),
        e.getMessage());
  }

  @Test
  void anExplicitValueMustEqualTheRecordedOne() throws Exception {
    ClusterSettings recorded = record(DEADLINE).formOrRead(FIRST).settings();

    ClusterSettingsMismatch.requireAgreement("--chunk-size", "67108864", 64 << 20, "chunk size",
        recorded.getChunkSize(), recorded);
    ClusterSettingsMismatch e = assertThrows(ClusterSettingsMismatch.class,
        () -> ClusterSettingsMismatch.requireAgreement("--chunk-size", "33554432", 32 << 20,
            "chunk size", recorded.getChunkSize(), recorded));
    assertEquals("--chunk-size 33554432 disagrees with the cluster's chunk size 67108864, fixed"
        + " when s1 formed the cluster (2023-11-14T22:13:20Z); leave --chunk-size out to take"
        + " the cluster's value", e.getMessage());
  }
}
