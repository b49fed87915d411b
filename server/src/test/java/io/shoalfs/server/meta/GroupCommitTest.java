package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** Group commit's gathering and answering, against a sender that answers when told to. */
class GroupCommitTest {

  /** Entries handed to Ratis, each with the future the test completes. */
  private final List<MetaRequest> sent = new ArrayList<>();
  private final List<CompletableFuture<Optional<MetaResponse>>> pending = new ArrayList<>();
  private final GroupCommit commit = new GroupCommit(1, 3, 1 << 20, entry -> {
    CompletableFuture<Optional<MetaResponse>> f = new CompletableFuture<>();
    sent.add(entry);
    pending.add(f);
    return f;
  });

  @Test
  void aLoneMutationGoesAtOnceAndAlone() throws Exception {
    CompletableFuture<Optional<MetaResponse>> answer = commit.submit(request("a"));
    assertEquals(List.of(request("a")), sent, "sent without waiting for anything");
    pending.get(0).complete(Optional.of(answerFor("a")));
    assertEquals(answerFor("a"), answer.get().orElseThrow());
  }

  @Test
  void mutationsArrivingWhileAnEntryIsOnItsWayShareTheNextInOrder() throws Exception {
    CompletableFuture<Optional<MetaResponse>> a = commit.submit(request("a"));
    CompletableFuture<Optional<MetaResponse>> b = commit.submit(request("b"));
    CompletableFuture<Optional<MetaResponse>> c = commit.submit(request("c"));
    assertEquals(1, sent.size(), "b and c wait while a is on its way");

    pending.get(0).complete(Optional.of(answerFor("a")));
    assertEquals(2, sent.size());
    MetaRequest batch = sent.get(1);
    assertEquals(MetaRequest.OpCase.BATCH, batch.getOpCase());
    assertEquals(List.of(request("b"), request("c")), batch.getBatch().getRequestsList());
    assertFalse(b.isDone());

    pending.get(1).complete(Optional.of(MetaResponse.newBuilder()
        .addBatched(answerFor("b")).addBatched(answerFor("c")).build()));
    assertEquals(answerFor("a"), a.get().orElseThrow());
    assertEquals(answerFor("b"), b.get().orElseThrow(), "each gets its own answer back");
    assertEquals(answerFor("c"), c.get().orElseThrow());
    assertEquals(2, commit.entriesSent());
  }

  @Test
  void anEntryHoldsAtMostMaxRequests() {
    commit.submit(request("first"));
    for (int i = 0; i < 5; i++) {
      commit.submit(request("r" + i));
    }
    pending.get(0).complete(Optional.of(answerFor("first")));
    assertEquals(3, sent.get(1).getBatch().getRequestsCount());
    pending.get(1).complete(Optional.of(MetaResponse.newBuilder()
        .addBatched(answerFor("r0")).addBatched(answerFor("r1")).addBatched(answerFor("r2"))
        .build()));
    assertEquals(List.of(request("r3"), request("r4")), sent.get(2).getBatch().getRequestsList());
  }

  @Test
  void anEntryThisMemberDidNotApplyLeavesEveryRequestToBeResent() throws Exception {
    List<CompletableFuture<Optional<MetaResponse>>> shared = sharingTheSecondEntry();
    pending.get(1).complete(Optional.empty()); // leadership moved
    for (CompletableFuture<Optional<MetaResponse>> answer : shared) {
      assertTrue(answer.get().isEmpty());
    }
  }

  @Test
  void anEntryWhoseApplyFailedGivesEachRequestThatFailure() throws Exception {
    List<CompletableFuture<Optional<MetaResponse>>> shared = sharingTheSecondEntry();
    MetaResponse failed = Replies.fail(Status.INTERNAL, "apply threw");
    pending.get(1).complete(Optional.of(failed));
    for (CompletableFuture<Optional<MetaResponse>> answer : shared) {
      assertEquals(failed, answer.get().orElseThrow());
    }
  }

  @Test
  void aSendThatFailsOutrightFailsItsRequestsAndTheNextEntryStillGoes() throws Exception {
    commit.submit(request("a"));
    CompletableFuture<Optional<MetaResponse>> b = commit.submit(request("b"));
    pending.get(0).completeExceptionally(new IOException("server closed"));
    assertEquals(2, sent.size(), "b was not stranded behind the failed entry");
    pending.get(1).completeExceptionally(new IOException("still closed"));
    ExecutionException e = assertThrows(ExecutionException.class, b::get);
    assertEquals("still closed", e.getCause().getMessage());
  }

  /** Requests b and c, sent together as the second entry once a's (the first) is answered. */
  private List<CompletableFuture<Optional<MetaResponse>>> sharingTheSecondEntry() {
    commit.submit(request("a"));
    List<CompletableFuture<Optional<MetaResponse>>> shared =
        List.of(commit.submit(request("b")), commit.submit(request("c")));
    pending.get(0).complete(Optional.of(answerFor("a")));
    assertEquals(2, sent.get(1).getBatch().getRequestsCount());
    return shared;
  }

  private static MetaRequest request(String name) {
    return MetaRequest.newBuilder().setLookup(LookupOp.newBuilder().setName(name)).build();
  }

  private static MetaResponse answerFor(String name) {
    return MetaResponse.newBuilder().setStatus(Status.OK).setError(name).build();
  }
}
