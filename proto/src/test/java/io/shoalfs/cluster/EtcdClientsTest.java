package io.shoalfs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdClientsTest {
  @Test
  void parsesACommaSeparatedList() {
    assertEquals(
        List.of(URI.create("http://127.0.0.1:2379"), URI.create("http://10.0.0.2:22379")),
        EtcdClients.parseEndpoints(" http://127.0.0.1:2379, ,http://10.0.0.2:22379/ "));
  }

  @Test
  void bareHostPortMeansHttp() {
    assertEquals(
        List.of(URI.create("http://etcd-1:2379")), EtcdClients.parseEndpoints("etcd-1:2379"));
  }

  @Test
  void rejectsWhatItCannotUse() {
    assertThrows(IllegalArgumentException.class, () -> EtcdClients.parseEndpoints(""));
    assertThrows(IllegalArgumentException.class, () -> EtcdClients.parseEndpoints(" , "));
    assertThrows(IllegalArgumentException.class, () -> EtcdClients.parseEndpoints("http://h"));
    assertThrows(IllegalArgumentException.class, () -> EtcdClients.parseEndpoints("http://h:1/x"));
    IllegalArgumentException tls =
        assertThrows(
            IllegalArgumentException.class, () -> EtcdClients.parseEndpoints("https://h:2379"));
    assertTrue(tls.getMessage().contains("https://h:2379"), tls.getMessage());
  }
}
