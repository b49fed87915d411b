package io.shoalfs.client;

import io.etcd.jetcd.Client;
import io.shoalfs.cluster.ClusterSettingsRecord;
import io.shoalfs.cluster.Member;
import io.shoalfs.cluster.EtcdClients;
import io.shoalfs.cluster.MemberDirectory;
import io.shoalfs.cluster.MemberKeys;
import io.shoalfs.proto.ClusterSettings;
import io.shoalfs.proto.MemberInfo;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What every front end of the client core does first, written once (the mount and the S3
 * gateway both start here): connect to etcd, watch the members, wait for one to be up, and
 * read the settings the cluster was formed with. Closing it closes the directory and etcd.
 */
public final class ClusterConnection implements AutoCloseable {
  /** How long a front end waits for the first member to register. */
  static final Duration FIRST_MEMBER_WAIT = Duration.ofSeconds(60);
  /** The largest frame a front end's transport accepts. */
  static final int MAX_FRAME = 16 << 20;
  /** How long a front end's transport waits for one answer. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(40);

  /** The cluster has no settings recorded: its servers are of a version older than this one. */
  public static final class NoSettings extends Exception {
    NoSettings(String endpoints) {
      super("no cluster settings in etcd at " + endpoints + " (key " + MemberKeys.SETTINGS
          + "): its servers predate them; start one server of this version to record them");
    }
  }

  private final Client etcd;
  private final MemberDirectory directory;
  private final ClusterSettings settings;

  private ClusterConnection(Client etcd, MemberDirectory directory, ClusterSettings settings) {
    this.etcd = etcd;
    this.directory = directory;
    this.settings = settings;
  }

  /** Connects to the etcd at {@code endpoints} and waits for a member (at most a minute). */
  public static ClusterConnection open(String endpoints) throws Exception {
    Client etcd = EtcdClients.connect(endpoints);
    MemberDirectory directory = null;
    try {
      directory = new MemberDirectory(etcd);
      directory.start();
      directory.awaitMembers(1, FIRST_MEMBER_WAIT);
      // A server records the settings before it registers: with a member up, they are there.
      Optional<ClusterSettings> settings =
          new ClusterSettingsRecord(etcd, ClusterSettingsRecord.DEFAULT_DEADLINE).read();
      if (settings.isEmpty()) {
        throw new NoSettings(endpoints);
      }
      return new ClusterConnection(etcd, directory, settings.get());
    } catch (Exception | Error e) {
      if (directory != null) {
        directory.close();
      }
      etcd.close();
      throw e;
    }
  }

  public Client etcd() {
    return etcd;
  }

  public MemberDirectory directory() {
    return directory;
  }

  public ClusterSettings settings() {
    return settings;
  }

  /** A transport to the members this connection watches, with the mount's frame bound and timeout. */
  RpcTransport transport() {
    return new RpcTransport(() -> memberInfos(directory), MAX_FRAME, CALL_TIMEOUT);
  }

  /** The directory's view of the members, as the transport needs it: id, address, state, roles. */
  static List<MemberInfo> memberInfos(MemberDirectory directory) {
    return directory.members().stream().map(Member::info).toList();
  }

  @Override
  public void close() {
    directory.close();
    etcd.close();
  }
}
