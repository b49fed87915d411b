package io.shoalfs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.LeaseOption;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Registration and directory against a real etcd process. */
class MembershipTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension
  final EtcdPerTest etcd = new EtcdPerTest();

  private Client client() {
    Client c = etcd.connect();
    return c;
  }

  private static MemberInfo info(String id) {
    return MemberInfo.newBuilder()
        .setId(id)
        .setAddress("127.0.0.1:" + (7000 + id.hashCode() % 1000))
        .setCapacityBytes(1000)
        .setFreeBytes(600)
        .build();
  }

  /** The member's key as etcd holds it right now, or null. */
  private static KeyValue keyInEtcd(Client c, String id) {
    try {
      List<KeyValue> kvs = c.getKVClient().get(MemberKeys.keyOf(id)).get(5, TimeUnit.SECONDS).getKvs();
      return kvs.isEmpty() ? null : kvs.get(0);
    } catch (Exception e) {
      throw new AssertionError("cannot read member " + id + " from etcd", e);
    }
  }

  @Test
  void registrationIsVisibleInADirectory() throws Exception {
    try (MemberRegistration reg = new MemberRegistration(client(), info("n1"));
        MemberDirectory dir = new MemberDirectory(client())) {
      reg.start();
      long lease = reg.awaitRegistered(WAIT);
      dir.start();

      List<Member> members = dir.awaitMembers(1, WAIT);
      assertEquals(1, members.size());
      Member m = members.get(0);
      assertEquals("n1", m.id());
      assertEquals(info("n1").getAddress(), m.address());
      assertEquals(MemberState.UP, m.state());
      assertEquals(1000, m.info().getCapacityBytes());
      assertEquals(600, m.info().getFreeBytes());
      assertTrue(m.info().getStartedMs() > 0, "started_ms is filled in");
      assertEquals(lease, keyInEtcd(client(), "n1").getLease(), "the key rides on the lease");
    }
  }

  @Test
  void theRolesAMemberPublishesReachTheDirectorysView() throws Exception {
    MemberInfo dataOnly = info("d1").toBuilder().addRoles(MemberRole.DATA).build();
    try (MemberRegistration d = new MemberRegistration(client(), dataOnly);
        MemberRegistration both = new MemberRegistration(client(), info("n1"));
        MemberDirectory dir = new MemberDirectory(client())) {
      d.start();
      both.start();
      d.awaitRegistered(WAIT);
      both.awaitRegistered(WAIT);
      dir.start();
      dir.awaitMembers(2, WAIT);

      ClusterView view = dir.view();
      assertEquals(List.of(MemberRole.DATA), view.member("d1").orElseThrow().getRolesList());
      assertEquals(List.of("d1", "n1"), view.dataNodes().stream().map(MemberInfo::getId).toList());
      assertEquals(List.of("n1"), view.metadataEndpoints().stream().map(MemberInfo::getId)
          .toList(), "a member that publishes no role is both; a data node is no endpoint");
    }
  }

  @Test
  void twoRegistrationsAreBothListed() throws Exception {
    try (MemberDirectory dir = new MemberDirectory(client()).start();
        MemberRegistration a = new MemberRegistration(client(), info("a"));
        MemberRegistration b = new MemberRegistration(client(), info("b"))) {
      a.start();
      b.start();
      List<Member> members = dir.awaitMembers(2, WAIT);
      assertEquals(List.of("a", "b"), members.stream().map(Member::id).toList());
      assertNotEquals(a.awaitRegistered(WAIT), b.awaitRegistered(WAIT));
    }
  }

  @Test
  void closeRemovesTheMemberAtOnce() throws Exception {
    Client c = client();
    try (MemberDirectory dir = new MemberDirectory(c).start()) {
      // A long TTL, so that a prompt disappearance can only be the revoke.
      MemberRegistration reg = new MemberRegistration(client(), info("n1"), 60);
      reg.start();
      dir.awaitMembers(1, WAIT);

      long before = System.nanoTime();
      reg.close();
      assertEquals(null, keyInEtcd(c, "n1"), "key deleted by the time close() returns");
      Poll.until(Duration.ofSeconds(3), "n1 to be down", () -> dir.liveMembers().isEmpty());
      assertEquals(MemberState.DOWN, dir.member("n1").orElseThrow().state(), "kept, as down");
      assertTrue(System.nanoTime() - before < TimeUnit.SECONDS.toNanos(3));
      assertTrue(!reg.isRegistered());
    }
  }

  @Test
  void aCrashedMemberDisappearsAfterItsTtl() throws Exception {
    Client observer = client();
    Client doomed = EtcdClients.connect(etcd.process().endpoint());
    try (MemberDirectory dir = new MemberDirectory(observer).start();
        MemberRegistration reg = new MemberRegistration(doomed, info("n1"), 2)) {
      reg.start();
      reg.awaitRegistered(WAIT);
      dir.awaitMembers(1, WAIT);

      // A crash: the connection goes, nobody revokes.
      doomed.close();
      long crashed = System.nanoTime();
      assertNotNull(keyInEtcd(observer, "n1"), "not revoked: the key outlives the client");

      Poll.until(WAIT, "n1 to expire", () -> dir.liveMembers().isEmpty(), () -> "" + dir.members());
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashed);
      // The last keep-alive was at most ttl/3 before the crash, so expiry takes over 1.3s.
      assertTrue(tookMs >= 1000, "gone after " + tookMs + " ms: that is not a lease expiry");
      assertEquals(null, keyInEtcd(observer, "n1"));
    }
  }

  @Test
  void aLeaseRevokedUnderneathIsReplaced() throws Exception {
    Client c = client();
    // jetcd learns of the revoke at the next keep-alive, ttl/3 later.
    try (MemberRegistration reg = new MemberRegistration(client(), info("n1"), 3)) {
      reg.start();
      long first = reg.awaitRegistered(WAIT);

      c.getLeaseClient().revoke(first).get(5, TimeUnit.SECONDS);

      Poll.until(
          WAIT,
          "a new lease",
          () -> reg.isRegistered() && reg.leaseId() != first,
          () -> "lease " + reg.leaseId());
      KeyValue kv = keyInEtcd(c, "n1");
      assertNotNull(kv, "n1 put again");
      assertEquals(reg.leaseId(), kv.getLease(), "n1 rides on the new lease");
    }
  }

  @Test
  void registrationComesBackAfterEtcdRestarts() throws Exception {
    try (MemberRegistration reg = new MemberRegistration(client(), info("n1"), 2);
        MemberDirectory dir = new MemberDirectory(client())) {
      reg.start();
      long first = reg.awaitRegistered(WAIT);
      dir.start().awaitMembers(1, WAIT);

      etcd.process().stop();
      // Down for longer than the TTL: the registration gives the lease up.
      Poll.until(Duration.ofSeconds(15), "the lease to be lost", () -> !reg.isRegistered());
      etcd.process().start();

      long second = reg.awaitRegistered(Duration.ofSeconds(30));
      assertNotEquals(first, second);
      Client c = client();
      assertEquals(second, keyInEtcd(c, "n1").getLease());
      // etcd restores the old lease on restart; it must go without taking the key with it.
      Poll.until(
          WAIT,
          "the old lease to be gone",
          () -> leaseTtl(c, first) == -1);
      assertEquals(second, keyInEtcd(c, "n1").getLease(), "the key survived the old lease");

      // The directory watched through the restart: it still has n1 and sees a newcomer.
      try (MemberRegistration late = new MemberRegistration(client(), info("n2"), 2)) {
        late.start();
        assertEquals(
            List.of("n1", "n2"),
            dir.awaitMembers(2, Duration.ofSeconds(20)).stream().map(Member::id).toList());
      }
    }
  }

  private static long leaseTtl(Client c, long lease) {
    try {
      return c.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT).get(5, TimeUnit.SECONDS)
          .getTTL();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void directoryReportsJoinsUpdatesAndLeaves() throws Exception {
    BlockingQueue<MembershipEvent> events = new LinkedBlockingQueue<>();
    try (MemberDirectory dir = new MemberDirectory(client()).start();
        AutoCloseable sub = dir.subscribe(events::add)) {
      MemberRegistration reg = new MemberRegistration(client(), info("n1"));
      reg.start();
      MembershipEvent joined = events.poll(10, TimeUnit.SECONDS);
      assertNotNull(joined, "no JOINED event");
      assertEquals(MembershipEvent.Type.JOINED, joined.type());
      assertEquals("n1", joined.member().id());

      reg.update(info("n1").toBuilder().setFreeBytes(123).build()).get(5, TimeUnit.SECONDS);
      MembershipEvent updated = events.poll(10, TimeUnit.SECONDS);
      assertNotNull(updated, "no UPDATED event");
      assertEquals(MembershipEvent.Type.UPDATED, updated.type());
      assertEquals(123, updated.member().info().getFreeBytes());
      assertEquals(
          joined.member().info().getStartedMs(),
          updated.member().info().getStartedMs(),
          "an update keeps started_ms");
      assertEquals(123, dir.member("n1").orElseThrow().info().getFreeBytes());

      reg.close();
      MembershipEvent down = events.poll(10, TimeUnit.SECONDS);
      assertNotNull(down, "no DOWN event");
      assertEquals(MembershipEvent.Type.DOWN, down.type());
      assertEquals("n1", down.member().id());
      assertEquals(MemberState.DOWN, down.member().state());
      assertEquals(123, down.member().info().getFreeBytes(), "what it last published is kept");
      assertTrue(dir.liveMembers().isEmpty());
    }
  }

  @Test
  void awaitMembersTimesOutWithAClearMessage() throws Exception {
    try (MemberDirectory dir = new MemberDirectory(client()).start();
        MemberRegistration reg = new MemberRegistration(client(), info("n1"))) {
      reg.start();
      dir.awaitMembers(1, WAIT);

      long before = System.nanoTime();
      TimeoutException e =
          assertThrows(TimeoutException.class, () -> dir.awaitMembers(2, Duration.ofMillis(300)));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before);
      assertTrue(tookMs >= 250 && tookMs < 5000, "waited " + tookMs + " ms");
      assertTrue(e.getMessage().contains("only 1 of 2"), e.getMessage());
      assertTrue(e.getMessage().contains("n1@"), e.getMessage());
      assertTrue(e.getMessage().contains(" up"), e.getMessage());
    }
  }

  @Test
  void directoryStartFailsClearlyWithoutEtcd() throws Exception {
    int unused;
    try (ServerSocket s = new ServerSocket(0)) {
      unused = s.getLocalPort();
    }
    Client nowhere = EtcdClients.connect("http://127.0.0.1:" + unused);
    etcd.closedAfter(nowhere);
    MemberDirectory dir = new MemberDirectory(nowhere);
    long before = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> dir.start(Duration.ofSeconds(2)));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before);
    assertTrue(e.getMessage().contains("/shoalfs/members/"), e.getMessage());
    assertTrue(e.getMessage().contains("within PT2S"), e.getMessage());
    // Gives up at its deadline (plus the close), not after jetcd's own retries.
    assertTrue(tookMs >= 1900 && tookMs < 8000, "gave up after " + tookMs + " ms");
  }

  @Test
  void updateCannotChangeTheId() {
    try (MemberRegistration reg = new MemberRegistration(client(), info("n1"))) {
      assertThrows(IllegalArgumentException.class, () -> reg.update(info("n2")));
    }
  }
}
