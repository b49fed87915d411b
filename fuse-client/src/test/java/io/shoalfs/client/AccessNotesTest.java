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
    long now = FuseTimes.nowNs();
    attr = Attr.newBuilder().setInode(INODE).setAtimeNs(now - 3000).setMtimeNs(now - 2000)
        .setCtimeNs(now - 2000).build();
    long before = FuseTimes.nowNs();
    notes.readStarted(ALICE, INODE);
    List<MetaRequest> sent = settle();
    assertEquals(List.of("GET_ATTR", "SET_ATTR"), ops(sent));
    MetaRequest note = sent.get(1);
    assertEquals(SetAttrBits.ACCESSED, note.getSetAttr().getValid());
    assertTrue(note.getSetAttr().getNowNs() >= before, "the time of the read");
    assertEquals(ALICE, note.getCaller());
  }

  @Test
  void aRecentAtimeAfterTheLastChangeNeedsNoNote() throws Exception {
    long now = FuseTimes.nowNs();
    attr = Attr.newBuilder().setInode(INODE).setAtimeNs(now).setMtimeNs(now - 1000)
        .setCtimeNs(now - 1000).build();
    notes.readStarted(ALICE, INODE);
    assertEquals(List.of("GET_ATTR"), ops(settle()));
  }

  @Test
  void theReadDoesNotWaitForTheNote() throws Exception {
    long now = FuseTimes.nowNs();
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
    assertEquals(List.of("GET_ATTR", "SET_ATTR"), ops(settle()), "one note for both reads");
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
