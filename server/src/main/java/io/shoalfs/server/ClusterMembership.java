package io.shoalfs.server;

import io.etcd.jetcd.Client;
import io.shoalfs.cluster.EtcdClients;
import io.shoalfs.cluster.Member;
import io.shoalfs.cluster.MemberDirectory;
import io.shoalfs.cluster.MemberRegistration;
import io.shoalfs.proto.MemberInfo;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * This server's link to etcd: the member set it sees (for placement, healing and status) and,
 * once started, its own registration. Built by the wiring, so planes can read the member set;
 * started and stopped by the server layer.
 */
public final class ClusterMembership implements AutoCloseable {
  private final ServerConfig config;
  private Client etcd;
  private volatile MemberDirectory directory;
  private MemberRegistration registration;

  public ClusterMembership(ServerConfig config) {
    this.config = config;
  }

  /** Connects to etcd and starts watching the member set. */
  public synchronized void start() throws IOException {
    etcd = EtcdClients.connect(config.etcdEndpoints());
    directory = new MemberDirectory(etcd, java.time.Duration.ofSeconds(config.deadAfterSeconds()));
    directory.start();
  }

  /** Publishes this server under a lease kept alive until {@link #close()}. */
  public synchronized void register(MemberInfo self) {
    registration = new MemberRegistration(etcd, self, config.leaseTtlSeconds());
    registration.start();
  }

  public CompletableFuture<Void> update(MemberInfo self) {
    return registration.update(self);
  }

  /** Every member this server knows of, with its state; empty before start. */
  public List<MemberInfo> members() {
    MemberDirectory d = directory;
    return d == null ? List.of() : d.members().stream().map(Member::info).toList();
  }

  /**
   * True if {@code id} is dead: down past the grace period, or never seen since this server's
   * directory started and the grace period has passed since then (see
   * {@link MemberDirectory#isDead}). False before start.
   */
  public boolean isDead(String id) {
    MemberDirectory d = directory;
    return d != null && d.isDead(id);
  }

  @Override
  public synchronized void close() {
    if (registration != null) {
      registration.close();
    }
    if (directory != null) {
      directory.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }
}
