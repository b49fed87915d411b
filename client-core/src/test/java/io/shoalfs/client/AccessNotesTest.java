package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AccessNotesTest {
  private static final long INODE = 9;
  private static final Caller ALICE = Caller.newBuilder().setUid(1000).build();
  private final ChunkStoreTransport transport = new ChunkStoreTransport(16);
  private final AccessNotes notes =
      new AccessNotes(new MetaClient(transport, Duration.ofSeconds(5), 1));
  private volatile Attr attr;

  AccessNotesTest() {
    transport.metaAnswers = r -> MetaResponse.newBuilder().setAttr(attr).build();
  }

  @AfterEach
  void close() {
    notes.close();
  }

  @Test
  void aReadOfAFileWrittenAfterItsLastAccessIsNotedWithTheReadsTime() throws Exception {
    long now = NanoTimes.nowNs();
    attr = Attr.newBuilder().setInode(INODE).setAtimeNs(now - 3000).setMtimeNs(now - 2000)
        .setCtimeNs(now - 2000).build();
    long before = NanoTimes.nowNs();
    notes.readStarted(ALICE, INODE);
    List<MetaRequest> sent = settle();
    assertEquals(List.of("GET_ATTR", "JOURNAL"), ops(sent));
    assertEquals(1, sent.get(1).getJournal().getOpsCount());
    MetaRequest note = sent.get(1).getJournal().getOps(0);
    assertEquals(SetAttrBits.ACCESSED, note.getSetAttr().getValid());
    assertTrue(note.getSetAttr().getNowNs() >= before, "the time of the read");
    assertEquals(ALICE, note.getCaller());
  }

  @Test
  void aRecentAtimeAfterTheLastChangeNeedsNoNote() throws Exception {
    long now = NanoTimes.nowNs();
    attr = Attr.newBuilder().setInode(INODE).setAtimeNs(now).setMtimeNs(now - 1000)
        .setCtimeNs(now - 1000).build();
    notes.readStarted(ALICE, INODE);
    assertEquals(List.of("GET_ATTR"), ops(settle()));
  }

  @Test
  void theReadDoesNotWaitForTheNote() throws Exception {
    long now = NanoTimes.nowNs();
    attr = Attr.newBuilder().setInode(INODE).setAtimeNs(now - 3000).setMtimeNs(now).build();
    CountDownLatch service = new CountDownLatch(1);
    var answers = transport.metaAnswers;
    transport.metaAnswers = r -> {
      try {
        service.await(10, TimeUnit.SECONDS); // a slow metadata service
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return answers.apply(r);
    };
    long t0 = System.nanoTime();
    notes.readStarted(ALICE, INODE);
    notes.readStarted(ALICE, INODE); // a second read while the first note is on its way
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "reads went on");
    assertTrue(notes.shown(attr).getAtimeNs() >= now, "a stat meanwhile shows the read");
    Attr recent = attr.toBuilder().setAtimeNs(now + 1).build();
    assertEquals(recent, notes.shown(recent), "not due: shown as it is");
    service.countDown();
    assertEquals(List.of("GET_ATTR", "JOURNAL"), ops(settle()), "one note for both reads");
  }

  @Test
  void notesThatWaitedGoTogetherInOneJournal() throws Exception {
    long now = NanoTimes.nowNs();
    attr = Attr.newBuilder().setInode(INODE).setAtimeNs(now - 3000).setMtimeNs(now).build();
    CountDownLatch service = new CountDownLatch(1);
    CountDownLatch firstJournal = new CountDownLatch(1);
    var answers = transport.metaAnswers;
    transport.metaAnswers = r -> {
      if (r.getOpCase() == MetaRequest.OpCase.JOURNAL) {
        firstJournal.countDown();
        try {
          service.await(10, TimeUnit.SECONDS); // the first journal is on its way a while
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return answers.apply(r);
    };
    notes.readStarted(ALICE, INODE);
    assertTrue(firstJournal.await(10, TimeUnit.SECONDS), "the first note was sent");
    for (long other = INODE + 1; other <= INODE + 3; other++) {
      notes.readStarted(ALICE, other); // read while the first note is on its way
    }
    service.countDown();
    settle();
    List<Integer> perJournal = transport.metaOf(MetaRequest.OpCase.JOURNAL).stream()
        .map(j -> j.getJournal().getOpsCount()).toList();
    assertEquals(List.of(1, 3), perJournal, "the three waiting notes share one log entry");
  }

  private List<MetaRequest> settle() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (notes.busy() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return List.copyOf(transport.metaRequests);
  }

  private static List<String> ops(List<MetaRequest> sent) {
    return sent.stream().map(r -> r.getOpCase().name()).toList();
  }
}
