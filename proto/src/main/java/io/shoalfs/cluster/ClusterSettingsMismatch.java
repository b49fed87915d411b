package io.shoalfs.cluster;

import io.shoalfs.proto.ClusterSettings;
import java.time.Instant;

/**
 * A process was given a cluster setting explicitly (a flag) that differs from the one the
 * cluster recorded when it was formed ({@link ClusterSettingsRecord}). Such a process must not
 * start: it would read and write chunks by other rules than every other. A flag left out takes
 * the cluster's value and is never a mismatch.
 */
public final class ClusterSettingsMismatch extends Exception {

  public ClusterSettingsMismatch(String message) {
    super(message);
  }

  /**
   * Throws unless the flag's value, as it applies here, is the recorded one. The message names
   * the flag, both values, and who formed the cluster when.
   *
   * @param flag the flag as typed, e.g. {@code --chunk-size}
   * @param given what the flag said, as the user would recognise it
   * @param effective what it amounts to here (the same number, unless this process caps it)
   * @param setting the setting in words, e.g. {@code chunk size}
   * @param recorded the cluster's value of that setting
   * @param record the cluster's settings, for who formed the cluster and when
   */
  public static void requireAgreement(String flag, String given, long effective, String setting,
      long recorded, ClusterSettings record) throws ClusterSettingsMismatch {
    if (effective == recorded) {
      return;
    }
    throw new ClusterSettingsMismatch(flag + " " + given + " disagrees with the cluster's "
        + setting + " " + recorded + ", fixed when " + record.getFormedBy()
        + " formed the cluster (" + Instant.ofEpochMilli(record.getFormedMs()) + "); leave "
        + flag + " out to take the cluster's value");
  }
}
