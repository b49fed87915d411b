package io.shoalfs.server.meta;

import io.shoalfs.proto.BatchOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Group commit for the metadata leader: mutations that arrive while {@code maxInFlight} log
 * entries are already on their way are gathered into one entry (a {@link BatchOp}) and sent
 * when one of those is done.
 *
 * <p>Why: each log entry costs every member a log append, a replication round, a wake-up of
 * several Ratis threads and a RocksDB write, whatever it holds; on a small machine that
 * per-entry CPU, not the disk, limits how many creates or renames a second the group takes.
 * A lone mutation still goes out at once, so waiting never adds latency; only mutations that
 * would have queued behind Ratis anyway share an entry. Order is kept: requests leave in the
 * order they came, and a batch's requests are applied in that order.
 */
final class GroupCommit {

  /** Sends one log entry: empty when this member did not get it applied (not the leader). */
  interface EntrySender {
    CompletableFuture<Optional<MetaResponse>> send(MetaRequest entry);
  }

  private final int maxInFlight;
  private final int maxRequests;
  private final int maxBytes;
  private final EntrySender sender;
  private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
  // Guarded by this. Entries sent and not yet answered.
  private int inFlight;
  private long entriesSent;

  /**
   * @param maxInFlight entries on their way before new mutations start waiting to share one
   * @param maxRequests most mutations in one entry (below EntryApplier.ENTRY_PLACES)
   * @param maxBytes an entry stops growing at about this many bytes of requests
   */
  GroupCommit(int maxInFlight, int maxRequests, int maxBytes, EntrySender sender) {
    if (maxInFlight < 1 || maxRequests < 1 || maxRequests >= EntryApplier.ENTRY_PLACES) {
      throw new IllegalArgumentException("maxInFlight " + maxInFlight + ", maxRequests " + maxRequests);
    }
    this.maxInFlight = maxInFlight;
    this.maxRequests = maxRequests;
    this.maxBytes = maxBytes;
    this.sender = sender;
  }

  /**
   * Completes with the mutation's answer, or empty if the entry it went in was not applied by
   * this member (the caller resends it another way; the reply table makes that safe).
   */
  CompletableFuture<Optional<MetaResponse>> submit(MetaRequest mutation) {
    Waiting waiting = new Waiting(mutation);
    synchronized (this) {
      queue.add(waiting);
      sendWhileRoom();
    }
    return waiting.answer;
  }

  /** Log entries sent so far; for tests and stats. */
  synchronized long entriesSent() {
    return entriesSent;
  }

  // Under the lock, so entries reach Ratis in the order their requests came.
  private void sendWhileRoom() {
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      List<Waiting> taken = takeEntry();
      inFlight++;
      entriesSent++;
      MetaRequest entry = taken.size() == 1 ? taken.get(0).request : batchOf(taken);
      CompletableFuture<Optional<MetaResponse>> sent;
      try {
        sent = sender.send(entry);
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      sent.whenComplete((answer, failure) -> answered(taken, answer, failure));
    }
  }

  private List<Waiting> takeEntry() {
    List<Waiting> taken = new ArrayList<>();
    int bytes = 0;
    while (!queue.isEmpty() && taken.size() < maxRequests) {
      int size = queue.peek().request.getSerializedSize();
      if (!taken.isEmpty() && bytes + size > maxBytes) {
        break;
      }
      taken.add(queue.poll());
      bytes += size;
    }
    return taken;
  }

  private static MetaRequest batchOf(List<Waiting> taken) {
    BatchOp.Builder batch = BatchOp.newBuilder();
    taken.forEach(w -> batch.addRequests(w.request));
    return MetaRequest.newBuilder().setBatch(batch).build();
  }

  private void answered(List<Waiting> taken, Optional<MetaResponse> answer, Throwable failure) {
    synchronized (this) {
      inFlight--;
      sendWhileRoom();
    }
    if (failure != null) {
      taken.forEach(w -> w.answer.completeExceptionally(failure));
      return;
    }
    if (taken.size() == 1 || answer.isEmpty()) {
      taken.forEach(w -> w.answer.complete(answer));
      return;
    }
    MetaResponse batch = answer.get();
    for (int i = 0; i < taken.size(); i++) {
      // No per-request answers: the entry as a whole failed (its apply threw), and that
      // failure is each request's answer.
      taken.get(i).answer.complete(Optional.of(
          batch.getBatchedCount() == taken.size() ? batch.getBatched(i) : batch));
    }
  }

  private static final class Waiting {
    final MetaRequest request;
    final CompletableFuture<Optional<MetaResponse>> answer = new CompletableFuture<>();

    Waiting(MetaRequest request) {
      this.request = request;
    }
  }
}
