package io.shoalfs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Guards the gRPC/Netty pairing under jetcd. grpc-netty before 1.64.1 misreads frames with
 * Netty 4.1.111 and later (grpc/grpc-java#11284, labelled CORRUPTION): small replies such as a
 * get of a missing key fail with "INTERNAL: Encountered end-of-stream mid-frame" now and then.
 */
class EtcdTransportTest {
  @Test
  void manySmallRepliesAllArriveIntact() throws Exception {
    try (EmbeddedEtcd etcd = EmbeddedEtcd.launch();
        Client c = EtcdClients.connect(etcd.endpoint())) {
      ByteSequence key = ByteSequence.from("/shoalfs/test/absent", StandardCharsets.UTF_8);
      c.getKVClient().put(key, ByteSequence.from("v", StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
      c.getKVClient().delete(key).get(5, TimeUnit.SECONDS);
      List<String> failures = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        try {
          assertEquals(0, c.getKVClient().get(key).get(5, TimeUnit.SECONDS).getCount());
        } catch (java.util.concurrent.ExecutionException e) {
          failures.add(i + ": " + e.getCause());
        }
      }
      assertEquals(
          0,
          failures.size(),
          failures.size() + " of 300 gets failed, e.g. " + failures.subList(0, Math.min(3, failures.size())));
    }
  }
}
