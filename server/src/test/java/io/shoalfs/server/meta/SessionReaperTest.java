package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** When the leader's reaper lets sessions end: only after a TTL of a log that kept moving. */
class SessionReaperTest {

  private static final long SECOND = 1_000_000_000L;

  private long now = 1000 * SECOND;
  private boolean leading = true;
  private boolean groupAnswers = true;
  private long nextStamp = 1024;
  private final List<Long> seenBefore = new ArrayList<>();
  private final List<Long> stamps = new ArrayList<>();

  private final ControlPlaneOrchestrator group = new ControlPlaneOrchestrator() {
    @Override
    public void start() {}

    @Override
    public CompletableFuture<MetaResponse> submit(MetaRequest request) {
      if (!groupAnswers) {
        return CompletableFuture.completedFuture(
            MetaResponse.newBuilder().setStatus(Status.UNAVAILABLE).build());
      }
      seenBefore.add(request.getExpireSessions().getSeenBefore());
      long stamp = nextStamp += 1024;
      stamps.add(stamp);
      return CompletableFuture.completedFuture(
          MetaResponse.newBuilder().setStatus(Status.OK).setAppliedIndex(stamp).build());
    }

    @Override
    public Optional<String> leaderId() {
      return Optional.of("m1");
    }

    @Override
    public void close() {}
  };

  private final SessionReaper reaper = new SessionReaper(group, () -> leading,
      Duration.ofSeconds(5), Duration.ofSeconds(20), () -> now);

  private void tickAfter(long seconds) {
    now += seconds * SECOND;
    reaper.tick();
  }

  @Test
  void sessionsEndOnlyOnceAMarkIsATtlOld() {
    reaper.tick(); // mark 0 at t=0
    for (int i = 0; i < 3; i++) {
      tickAfter(5);
    }
    assertEquals(List.of(0L, 0L, 0L, 0L), seenBefore, "nothing ends within the first TTL");
    tickAfter(5); // t=20: the mark of t=0 is a TTL old
    assertEquals(stamps.get(0), seenBefore.get(4));
    tickAfter(5); // t=25: the mark of t=5
    assertEquals(stamps.get(1), seenBefore.get(5));
  }

  @Test
  void aGroupThatStoppedAnsweringStartsTheCountOver() {
    reaper.tick();
    tickAfter(5);
    groupAnswers = false;
    for (int i = 0; i < 12; i++) {
      tickAfter(5); // a minute without a quorum: the mounts could not keep alive either
    }
    groupAnswers = true;
    seenBefore.clear();
    for (int i = 0; i < 4; i++) {
      tickAfter(5);
    }
    assertEquals(List.of(0L, 0L, 0L, 0L), seenBefore,
        "after the outage, mounts get a whole TTL to be heard again");
    tickAfter(5);
    assertTrue(seenBefore.get(4) > 0);
  }

  @Test
  void aPauseLongerThanTwoPeriodsAndALostLeadershipStartTheCountOver() {
    reaper.tick();
    tickAfter(5);
    tickAfter(30); // this member stood still (a GC pause, a stopped process)
    tickAfter(5);
    tickAfter(5);
    assertEquals(List.of(0L, 0L, 0L, 0L, 0L), seenBefore);
    leading = false;
    tickAfter(5);
    assertEquals(5, seenBefore.size(), "a follower appends nothing");
    leading = true;
    for (int i = 0; i < 4; i++) {
      tickAfter(5);
    }
    assertEquals(0L, seenBefore.get(seenBefore.size() - 1), "a new leader waits a whole TTL");
  }
}
