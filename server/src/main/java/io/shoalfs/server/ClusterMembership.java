package io.shoalfs.server;

import io.etcd.jetcd.Client;
import io.shoalfs.cluster.ClusterView;
import io.shoalfs.cluster.EtcdClients;
import io.shoalfs.cluster.MemberDirectory;
import io.shoalfs.cluster.MemberRegistration;
import io.shoalfs.proto.MemberInfo;
import java.io.IOException;
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

  /**
   * The members this server knows of, with their states and roles, as one view; empty before
   * start. A member the directory never saw is dead once its grace period has passed since it
   * started (see {@link MemberDirectory#isDead}).
   */
  public ClusterView view() {
    MemberDirectory d = directory;
    return d == null ? ClusterView.empty() : d.view();
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
