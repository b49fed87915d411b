package io.shoalfs.cluster;

import io.etcd.jetcd.Client;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real etcd process for each test, and the clients the test opened on it, all closed after
 * it. Registered with {@code @RegisterExtension}.
 */
final class EtcdPerTest implements BeforeEachCallback, AfterEachCallback {
  private EmbeddedEtcd etcd;
  private final List<Client> clients = new ArrayList<>();

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    etcd = EmbeddedEtcd.launch();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    clients.forEach(Client::close);
    clients.clear();
    etcd.close();
  }

  /** The etcd process (to stop and start it). */
  EmbeddedEtcd process() {
    return etcd;
  }

  /** A new client of it, closed after the test. */
  Client connect() {
    return closedAfter(EtcdClients.connect(etcd.endpoint()));
  }

  /** Closes {@code client} after the test. */
  Client closedAfter(Client client) {
    clients.add(client);
    return client;
  }
}
