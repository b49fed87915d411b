package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import java.io.IOException;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.retry.ClientRetryEvent;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * Sends {@link MetaRequest}s to the leader of the metadata group (while this member leads, straight
 * to its own server: {@link LocalLeaderSubmitter}): mutations through the log,
 * reads as read-only requests (linearizable: the servers run with the LINEARIZABLE read
 * option), with a bounded retry policy.
 *
 * <p>Why Ratis's blocking API on our own threads and not {@code client.async()}: in Ratis
 * 3.1.3 the ordered async path does not retry "leader not ready" (it hands the exception
 * back), and after a failed call its sliding window can hold later calls forever. The blocking
 * path redirects on "not leader", waits out "not ready", and retries with the same call id,
 * so the server's retry cache never applies a retried request twice.
 */
final class MetaGroupClient implements AutoCloseable {

  /**
   * Why several RaftClients, each used by one call at a time: a RaftClient holds one Netty
   * connection to the leader, and the Ratis 3.1.3 Netty server handles a connection's
   * requests one after another on its event loop, blocking until each is committed and
   * applied. One shared client therefore ran every call of this member in single file, however
   * many threads submitted them. Four matches the leader's event-loop threads on the 2-core
   * machines we run on (Netty's default, 2 x cores): more connections add threads here but no
   * concurrency there.
   */
  static final int CONNECTIONS = 4;

  /**
   * Tries of one read against the member it was aimed at, before sendRead looks the leader up
   * again: a dead leader refuses at once, so three tries take about 2 x the retry sleep.
   */
  static final int READ_TRIES_PER_TARGET = 3;

  /**
   * Group commit (see GroupCommit): two entries on their way before mutations start to share
   * one, so that a mutation behind a background one (an access note, a healer's add_replica)
   * is not held back a whole entry; under load what arrives meanwhile goes in the next entry,
   * up to 256 requests or 1 MiB (Ratis takes entries up to 4 MiB). With mdbench's four
   * threads this machine could not tell 1, 2 and 4 apart (run-to-run spread larger than any
   * difference); a burst of 1000 creates takes 5-6 entries with 1 or 2 (RaftGroupLatencyBench).
   */
  static final int GROUP_COMMIT_IN_FLIGHT = 2;
  static final int GROUP_COMMIT_REQUESTS = 256;
  static final int GROUP_COMMIT_BYTES = 1 << 20;

  private final List<RaftClient> clients = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final RaftGroup group;
  private final RaftProperties properties;
  private final int attempts;
  private final Duration retrySleep;
  // Clients not in use by a call. A call keeps its client through all its retries, so a retry
  // carries the same client id and call id and the server's retry cache recognises it.
  private final BlockingQueue<RaftClient> idle = new ArrayBlockingQueue<>(CONNECTIONS);
  // As many threads as clients: a thread always finds an idle client.
  private final ExecutorService executor;
  private final Supplier<Optional<RaftPeerId>> leader;
  private final LocalLeaderSubmitter local;
  // Finishes calls answered by this member's own server, off Ratis's threads.
  private final ExecutorService localReplies;
  private final GroupCommit groupCommit;

  /**
   * @param leader the leader as this member's own server currently sees it; reads go there
   * @param local this member's own server, which takes requests directly while it leads
   */
  MetaGroupClient(RaftGroup group, RaftProperties properties, int attempts, Duration retrySleep,
      Supplier<Optional<RaftPeerId>> leader, LocalLeaderSubmitter local) {
    this.leader = leader;
    this.local = local;
    this.localReplies = Executors.newFixedThreadPool(2, daemonThreads("shoal-meta-local-"));
    this.groupCommit = new GroupCommit(GROUP_COMMIT_IN_FLIGHT, GROUP_COMMIT_REQUESTS,
        GROUP_COMMIT_BYTES, entry -> sendLocally(entry, false));
    this.group = group;
    this.properties = properties;
    this.attempts = attempts;
    this.retrySleep = retrySleep;
    for (int i = 0; i < CONNECTIONS; i++) {
      RaftClient client = newClient();
      clients.add(client);
      idle.add(client);
    }
    this.executor = Executors.newFixedThreadPool(CONNECTIONS, daemonThreads("shoal-meta-client-"));
  }

  /**
   * Completes with the group's answer, or exceptionally when the group could not be reached
   * within the retry policy.
   */
  CompletableFuture<MetaResponse> submit(MetaRequest request) {
    if (request.getOpCase() == MetaRequest.OpCase.BATCH) {
      // Only the leader's group commit forms batches: a caller's would skip chunk placement.
      return CompletableFuture.completedFuture(
          Replies.fail(Status.BAD_REQUEST, "batch requests are formed by the metadata leader"));
    }
    boolean read = Namespace.isReadOnly(request);
    if (!local.leadsNow()) {
      return viaClient(toMessage(request), read);
    }
    CompletableFuture<Optional<MetaResponse>> here = read
        ? sendLocally(request, true)
        : groupCommit.submit(request);
    // Leadership moved or the leader was not ready: the client path finds the leader.
    Function<Optional<MetaResponse>, CompletableFuture<MetaResponse>> answered =
        answer -> answer.map(CompletableFuture::completedFuture)
            .orElseGet(() -> viaClient(toMessage(request), read));
    // A read under the leader lease is answered on this very thread: finishing it here saves a
    // hand-off per read. An answer still to come completes on a Ratis thread (a log entry's
    // apply), which must not run the caller's continuations.
    return here.isDone()
        ? here.thenCompose(answered)
        : here.thenComposeAsync(answered, localReplies);
  }

  /**
   * One request (a read, or a log entry) through this member's own server, while it leads;
   * empty when the server did not answer it (not the leader, or not ready).
   */
  private CompletableFuture<Optional<MetaResponse>> sendLocally(MetaRequest request,
      boolean read) {
    return local.submit(toMessage(request), read).handle((reply, failure) ->
        failure == null && LocalLeaderSubmitter.isAnswer(reply)
            ? Optional.of(toResponse(reply))
            : Optional.empty());
  }

  private static Message toMessage(MetaRequest request) {
    return Message.valueOf(ByteString.copyFrom(request.toByteArray()));
  }

  private CompletableFuture<MetaResponse> viaClient(Message message, boolean read) {
    return CompletableFuture.supplyAsync(() -> {
      RaftClient client = idle.remove(); // never empty: one client per executor thread
      try {
        try {
          return send(client, message, read);
        } catch (AlreadyClosedException closed) {
          client = replace(client);
          return send(client, message, read);
        }
      } catch (IOException e) {
        throw new CompletionException(e);
      } finally {
        idle.add(client);
      }
    }, executor);
  }

  private MetaResponse send(RaftClient client, Message message, boolean read) throws IOException {
    RaftClientReply reply = read ? sendRead(client, message) : client.io().send(message);
    if (!reply.isSuccess() && reply.getException() instanceof AlreadyClosedException closed) {
      throw closed;
    }
    return toResponse(reply);
  }

  private RaftClient newClient() {
    TimeDuration sleep = TimeDuration.valueOf(retrySleep.toMillis(), TimeUnit.MILLISECONDS);
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(properties)
        // Reads are retried by sendRead, which asks for the leader again between tries; Ratis
        // would resend a read aimed at a server to that same server every time.
        .setRetryPolicy(readsApart(
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(READ_TRIES_PER_TARGET, sleep),
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts, sleep)))
        .build();
  }

  /**
   * {@code reads} for read requests, {@code others} for everything else. Not Ratis's
   * RequestTypeDependentRetryPolicy: it retries forever, without sleeping, any request whose
   * type it was not given.
   */
  private static RetryPolicy readsApart(RetryPolicy reads, RetryPolicy others) {
    return event -> event instanceof ClientRetryEvent e
        && e.getRequest().is(RaftClientRequestProto.TypeCase.READ)
        ? reads.handleAttemptFailure(event)
        : others.handleAttemptFailure(event);
  }

  /**
   * A Ratis client that ran out of retries (no leader for a while) closes itself for good;
   * the group may be back by now, so the call gets a fresh client. Mutations stay safe to
   * resend: the state machine's reply table answers a (client id, seq) it has applied.
   */
  private RaftClient replace(RaftClient failed) {
    try {
      failed.close();
    } catch (IOException ignored) {
      // it closed itself already; that is why it is being replaced
    }
    RaftClient fresh = newClient();
    clients.remove(failed);
    clients.add(fresh);
    return fresh;
  }

  /**
   * Why a read names the leader: a read that reaches a follower makes Ratis 3.1.3 forward a
   * ReadIndex request over the server's async protocol, which the Netty transport lacks; the
   * follower never answers and the call waits out the whole request timeout (3 s) before its
   * retry. A client that has not yet learnt the leader (every client's first call) guesses a
   * member, so reads go to the leader this member's own server knows, when it knows one.
   */
  private RaftClientReply sendRead(RaftClient client, Message message) throws IOException {
    long deadline = System.nanoTime() + retrySleep.toNanos() * attempts;
    while (true) {
      Optional<RaftPeerId> known = leader.get();
      try {
        return known.isPresent()
            ? client.io().sendReadOnly(message, known.get())
            : client.io().sendReadOnly(message);
      } catch (AlreadyClosedException closed) {
        throw closed; // submit() gives the call a fresh client
      } catch (IOException e) {
        // The member we aimed at may be the leader that just died: after an election this
        // member's own server names the new one.
        if (System.nanoTime() - deadline > 0) {
          throw e;
        }
        try {
          Thread.sleep(retrySleep.toMillis());
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while retrying a read", interrupted);
        }
      }
    }
  }

  /** Asks {@code member} to snapshot now. */
  void snapshot(RaftPeerId member, Duration timeout) throws IOException {
    // Creation gap 1: snapshot even if few entries arrived since the last one.
    RaftClientReply reply = clients.get(0).getSnapshotManagementApi(member).create(1, timeout.toMillis());
    if (!reply.isSuccess()) {
      throw new IOException("snapshot of " + member + " failed", reply.getException());
    }
  }

  private static MetaResponse toResponse(RaftClientReply reply) {
    if (!reply.isSuccess()) {
      if (reply.getStateMachineException() != null) {
        return Replies.fail(Status.INTERNAL, String.valueOf(reply.getStateMachineException().getMessage()));
      }
      throw new CompletionException(reply.getException());
    }
    try {
      return MetaResponse.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      return Replies.fail(Status.INTERNAL, "reply is not a MetaResponse");
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() throws IOException {
    executor.shutdownNow();
    localReplies.shutdownNow();
    IOException failure = null;
    for (RaftClient client : clients) {
      try {
        client.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
