package io.shoalfs.client;

import io.shoalfs.cluster.ClusterSettingsMismatch;
import io.shoalfs.proto.ClusterSettings;
import java.util.OptionalLong;

/**
 * The chunk size a mount splits files by: the cluster's, recorded in etcd by the server that
 * formed it. It decides which chunk holds each file offset, so no other value reads or writes
 * the right bytes: a chunk size given to the mount must be the cluster's.
 */
final class ClusterChunkSize {

  private ClusterChunkSize() {}

  /**
   * @param given the mount's {@code --chunk-size}, if it was given
   * @throws ClusterSettingsMismatch if {@code given} is not the cluster's chunk size
   */
  static long of(ClusterSettings cluster, OptionalLong given) throws ClusterSettingsMismatch {
    if (given.isPresent()) {
      ClusterSettingsMismatch.requireAgreement("--chunk-size",
          String.valueOf(given.getAsLong()), given.getAsLong(), "chunk size",
          cluster.getChunkSize(), cluster);
    }
    return cluster.getChunkSize();
  }
}
