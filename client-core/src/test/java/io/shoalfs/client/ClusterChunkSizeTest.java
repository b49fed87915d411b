package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.cluster.ClusterSettingsMismatch;
import io.shoalfs.proto.ClusterSettings;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** A mount takes the cluster's chunk size, and refuses a different one it was given. */
class ClusterChunkSizeTest {
  private static final ClusterSettings CLUSTER = ClusterSettings.newBuilder()
      .setChunkSize(8 << 20).setBlockSize(64 << 10).setReplication(3).setFormedBy("s2")
      .setFormedMs(0).build();

  @Test
  void withoutAChunkSizeTheMountTakesTheClustersNotTheDefault() throws Exception {
    assertEquals(8 << 20, ClusterChunkSize.of(CLUSTER, OptionalLong.empty()));
  }

  @Test
  void theClustersOwnChunkSizeIsAccepted() throws Exception {
    assertEquals(8 << 20, ClusterChunkSize.of(CLUSTER, OptionalLong.of(8 << 20)));
  }

  @Test
  void anotherChunkSizeIsRefusedNamingBothValues() {
    ClusterSettingsMismatch e = assertThrows(ClusterSettingsMismatch.class,
        () -> ClusterChunkSize.of(CLUSTER, OptionalLong.of(ShoalFuseConfig.DEFAULT_CHUNK_SIZE)));
    assertEquals("--chunk-size 67108864 disagrees with the cluster's chunk size 8388608, fixed"
        + " when s2 formed the cluster (1970-01-01T00:00:00Z); leave --chunk-size out to take"
        + " the cluster's value", e.getMessage());
  }
}
