package io.shoalfs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Up / down / dead as a directory sees them, against a real etcd process. */
class MemberStatesTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration GRACE = Duration.ofSeconds(2);

  @RegisterExtension
  final EtcdPerTest etcd = new EtcdPerTest();

  private Client client() {
    Client c = etcd.connect();
    return c;
  }

  private static MemberInfo info(String id) {
    return MemberInfo.newBuilder()
        .setId(id)
        .setAddress("127.0.0.1:" + (7000 + Math.abs(id.hashCode() % 1000)))
        .setCapacityBytes(1000)
        .setFreeBytes(600)
        .build();
  }

  /** The next event, failing the test if none comes in time. */
  private static MembershipEvent next(BlockingQueue<MembershipEvent> events, Duration within)
      throws InterruptedException {
    MembershipEvent e = events.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    assertNotNull(e, "no event within " + within);
    return e;
  }

  private static MemberRegistration register(Client c, String id) throws Exception {
    MemberRegistration reg = new MemberRegistration(c, info(id), 60);
    reg.start();
    reg.awaitRegistered(WAIT);
    return reg;
  }

  @Test
  void closedMemberGoesDownThenDeadThenComesBackUp() throws Exception {
    BlockingQueue<MembershipEvent> events = new LinkedBlockingQueue<>();
    try (MemberDirectory dir = new MemberDirectory(client(), GRACE).start();
        AutoCloseable sub = dir.subscribe(events::add)) {
      MemberRegistration reg = register(client(), "n1");
      MembershipEvent joined = next(events, WAIT);
      assertEquals(MembershipEvent.Type.JOINED, joined.type());
      assertEquals(MemberState.UP, joined.member().state());
      assertTrue(joined.member().wentDownAt().isEmpty());

      Instant beforeClose = Instant.now();
      reg.close(); // revokes the lease: the key goes at once
      MembershipEvent down = next(events, Duration.ofSeconds(3));
      Instant downSeen = Instant.now();
      assertEquals(MembershipEvent.Type.DOWN, down.type());
      assertEquals("n1", down.member().id());
      assertEquals(MemberState.DOWN, down.member().state());
      assertEquals(MemberState.DOWN, down.member().info().getState(), "the info carries the state");
      Instant wentDown = down.member().wentDownAt().orElseThrow();
      assertFalse(wentDown.isBefore(beforeClose), "went down after the close, not before");
      assertEquals(List.of("n1"), dir.members().stream().map(Member::id).toList(), "still known");
      assertEquals(List.of(), dir.liveMembers());
      assertEquals(info("n1").getAddress(), dir.member("n1").orElseThrow().address());

      MembershipEvent dead = next(events, GRACE.plus(WAIT));
      long deadAfterMs = Duration.between(wentDown, Instant.now()).toMillis();
      assertEquals(MembershipEvent.Type.DEAD, dead.type());
      assertEquals(MemberState.DEAD, dead.member().state());
      assertTrue(dead.member().isDead());
      assertEquals(wentDown, dead.member().wentDownAt().orElseThrow(), "down since the same time");
      assertTrue(deadAfterMs >= GRACE.toMillis() - 50, "dead after only " + deadAfterMs + " ms");
      assertTrue(
          Duration.between(downSeen, Instant.now()).toMillis() < GRACE.toMillis() + 3000,
          "dead long after the grace period");
      assertEquals(MemberState.DEAD, dir.members().get(0).info().getState());
      assertEquals(List.of(), dir.liveMembers());

      try (MemberRegistration again = register(client(), "n1")) {
        MembershipEvent up = next(events, WAIT);
        assertEquals(MembershipEvent.Type.UP, up.type());
        assertEquals(MemberState.UP, up.member().state());
        assertTrue(up.member().wentDownAt().isEmpty());
        assertEquals(List.of("n1"), dir.liveMembers().stream().map(Member::id).toList());
        assertEquals(1, dir.members().size());
      }
      assertEquals(MembershipEvent.Type.DOWN, next(events, Duration.ofSeconds(3)).type());
    }
  }

  @Test
  void memberBackWithinTheGracePeriodIsNeverDeclaredDead() throws Exception {
    BlockingQueue<MembershipEvent> events = new LinkedBlockingQueue<>();
    try (MemberDirectory dir = new MemberDirectory(client(), GRACE).start();
        AutoCloseable sub = dir.subscribe(events::add)) {
      register(client(), "n1").close();
      assertEquals(MembershipEvent.Type.JOINED, next(events, WAIT).type());
      assertEquals(MembershipEvent.Type.DOWN, next(events, WAIT).type());
      try (MemberRegistration again = register(client(), "n1")) {
        assertEquals(MembershipEvent.Type.UP, next(events, WAIT).type());
        // Past the first down's grace period: its check must find the member up and do nothing.
        assertNull(events.poll(GRACE.toMillis() + 1000, TimeUnit.MILLISECONDS), "no more events");
        assertEquals(MemberState.UP, dir.member("n1").orElseThrow().state());
      }
    }
  }

  @Test
  void onlyUpMembersCountAsLiveOrForAwaitMembers() throws Exception {
    try (MemberDirectory dir = new MemberDirectory(client(), GRACE).start();
        MemberRegistration a = register(client(), "a")) {
      register(client(), "b").close();
      Poll.until(
          WAIT,
          "b to be down",
          () -> dir.member("b").map(m -> m.state() == MemberState.DOWN).orElse(false),
          () -> "" + dir.members());
      assertEquals(List.of("a", "b"), dir.members().stream().map(Member::id).toList());
      assertEquals(List.of("a"), dir.liveMembers().stream().map(Member::id).toList());
      assertEquals(List.of("a"), dir.awaitMembers(1, WAIT).stream().map(Member::id).toList());
      TimeoutException e =
          assertThrows(TimeoutException.class, () -> dir.awaitMembers(2, Duration.ofMillis(200)));
      assertTrue(e.getMessage().contains("b@") && e.getMessage().contains("down"), e.getMessage());
    }
  }

  @Test
  void aMemberNeverSeenCountsAsDeadOnceTheGracePeriodSinceTheStartIsOver() throws Exception {
    Duration grace = Duration.ofSeconds(3);
    MemberDirectory unstarted = new MemberDirectory(client(), Duration.ZERO);
    assertFalse(unstarted.isDead("ghost"), "nothing is dead before the first load");
    unstarted.close();
    long beforeStart = System.nanoTime();
    try (MemberDirectory dir = new MemberDirectory(client(), grace).start()) {
      // "ghost" held chunks before the cluster restarted; this directory never saw it.
      boolean deadAtOnce = dir.isDead("ghost");
      long checkedAfter = System.nanoTime() - beforeStart;
      assertTrue(checkedAfter < grace.toNanos(), "the first check came too late to judge");
      assertFalse(deadAtOnce, "a cluster that just restarted declares nobody dead");
      assertFalse(dir.view().isDead("ghost"), "nor does a view taken then");
      try (MemberRegistration a = register(client(), "a")) {
        Poll.until(WAIT, "ghost to count as dead", () -> dir.isDead("ghost"));
        assertTrue(System.nanoTime() - beforeStart >= grace.toNanos(), "dead before the grace");
        assertTrue(dir.view().isDead("ghost"), "a view taken now says what the directory says");
        Poll.until(WAIT, "a to be listed", () -> dir.member("a").isPresent());
        assertFalse(dir.isDead("a"), "a member that is up is not dead");
        assertFalse(dir.view().isDead("a"));
      }
    }
  }

  @Test
  void closingDoesNotWaitOutAPendingGracePeriod() throws Exception {
    MemberDirectory dir = new MemberDirectory(client(), Duration.ofMinutes(10)).start();
    register(client(), "n1").close();
    Poll.until(WAIT, "n1 to be down", () -> dir.liveMembers().isEmpty() && !dir.members().isEmpty());
    long before = System.nanoTime();
    dir.close();
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before);
    assertTrue(tookMs < 2000, "close took " + tookMs + " ms");
  }

  @Test
  void defaultGracePeriodIsSixtySeconds() {
    try (MemberDirectory dir = new MemberDirectory(client())) {
      assertEquals(Duration.ofSeconds(60), dir.deadAfter());
    }
    assertThrows(
        IllegalArgumentException.class, () -> new MemberDirectory(client(), Duration.ofSeconds(-1)));
  }
}
