package io.shoalfs.server;

import io.shoalfs.cluster.ClusterSettingsMismatch;
import io.shoalfs.cluster.ClusterSettingsRecord;
import io.shoalfs.proto.ClusterSettings;
import java.io.IOException;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Settles a server's chunk size, block size and replication factor with the cluster's, before
 * anything is built: the first server to start records what its flags ask (or the defaults) in
 * etcd; every later one takes the recorded values, and must not start if a flag it was given
 * says otherwise. A flag left out takes the cluster's value.
 */
final class ClusterSettingsCheck {

  private ClusterSettingsCheck() {}

  /** {@code config} with the cluster's settings, recorded from {@code config} if none were. */
  static ServerConfig settle(ServerConfig config, ClusterSettingsRecord record)
      throws ClusterSettingsMismatch, IOException, InterruptedException {
    Optional<ClusterSettings> recorded = record.read();
    ClusterSettings cluster = recorded.isPresent() ? recorded.get()
        : record.formOrRead(proposal(config, System.currentTimeMillis())).settings();
    requireAgreement(config, cluster);
    return config.withClusterSettings(cluster);
  }

  /**
   * What this server records if it forms the cluster: its flags, or the defaults. Checked
   * here, since a recorded set can never be changed.
   */
  static ClusterSettings proposal(ServerConfig config, long nowMs) {
    if (config.chunkSizeBytes() % config.blockSizeBytes() != 0) {
      throw new IllegalArgumentException("--chunk-size " + config.chunkSizeBytes()
          + " is not a multiple of --block-size " + config.blockSizeBytes());
    }
    return ClusterSettings.newBuilder()
        .setChunkSize(config.chunkSizeBytes())
        .setBlockSize(config.blockSizeBytes())
        .setReplication(config.replication())
        .setFormedBy(config.id())
        .setFormedMs(nowMs)
        .build();
  }

  /** Throws if a flag the server was given disagrees with the cluster's settings. */
  static void requireAgreement(ServerConfig config, ClusterSettings cluster)
      throws ClusterSettingsMismatch {
    ServerConfig.GivenSettings given = config.given();
    requireAgreement("--chunk-size", given.chunkSize(), "chunk size", cluster.getChunkSize(),
        cluster);
    requireAgreement("--block-size", given.blockSize(), "block size", cluster.getBlockSize(),
        cluster);
    if (given.replication().isPresent()) {
      // The topology may cap the flag (see Topology#check): a server restarted with the flags
      // that formed the cluster agrees with it.
      int asked = given.replication().getAsInt();
      int capped = config.replication();
      String text = asked == capped ? String.valueOf(asked)
          : asked + " (" + capped + " in this topology)";
      ClusterSettingsMismatch.requireAgreement("--replication", text, capped,
          "replication factor", cluster.getReplication(), cluster);
    }
  }

  private static void requireAgreement(String flag, OptionalInt given, String setting,
      int recorded, ClusterSettings cluster) throws ClusterSettingsMismatch {
    if (given.isPresent()) {
      ClusterSettingsMismatch.requireAgreement(flag, String.valueOf(given.getAsInt()),
          given.getAsInt(), setting, recorded, cluster);
    }
  }
}
