package io.shoalfs.client;

import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one piece of one chunk to its replicas: to the head, replicas[0], with the rest as the
 * chain it forwards to. A write succeeds only when every replica in the chain has it.
 *
 * <p>What a failed attempt leads to, before the next one (at least {@link #MAX_ATTEMPTS} in all,
 * and for as long as the retry window, with a growing pause in between):
 * <ul>
 *   <li>REPLICA_FAILED: report the failed member (the chunk map drops it and bumps the
 *       version, so its copy is never current again), write to the location that comes back;
 *   <li>the head could not be reached (UNAVAILABLE, DEADLINE_EXCEEDED): report the head;
 *   <li>STALE_VERSION: someone moved the chunk on: ask the chunk map again;
 *   <li>the location says copying (the healer is copying the chunk to a new member, and no
 *       write may land until the copy is added): nothing is sent; ask the chunk map again,
 *       for up to {@link #COPY_WAIT} past the retry window.
 * </ul>
 * Any other status (ENOSPC, EIO, ...) is the answer. A location with a replica that is not up in
 * the client's view is allocated again first, which drops the replica that is down.
 */
final class ReplicaWriter {
  static final int MAX_ATTEMPTS = 5;
  /**
   * Why a window and not just a count: a server killed a moment ago stays "up" in etcd until
   * its lease runs out (5 s), and placement keeps choosing it until then. With metadata
   * answering within a few milliseconds again after a failover, five attempts in a row could
   * all land on it, and a 300 MiB dd across a leader kill failed with EAGAIN.
   */
  static final Duration RETRY_WINDOW = Duration.ofSeconds(30);
  /**
   * How long a write waits for a healer's copy of its chunk, past the retry window: the healer
   * gives a copy 5 minutes before it gives up and lifts the fence, and a healer that died
   * leaves a fence that the next leader's first pass lifts.
   */
  static final Duration COPY_WAIT = Duration.ofMinutes(6);
  private static final long MAX_PAUSE_MS = 1000;
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaWriter.class);

  /**
   * One attempt in flight: the op, the location it was sent by, and the head's answer.
   * {@code sent} is false when it could not be sent: a replica this client has no address for.
   */
  record Attempt(WriteChunkOp op, ChunkLocation location, CompletableFuture<DataResponse> reply,
      boolean sent) {
    String head() {
      return location.getReplicas(0);
    }
  }

  private final ShoalTransport transport;
  private final ChunkLocations locations;
  private final Duration timeout;
  private final Duration retryWindow;

  ReplicaWriter(ShoalTransport transport, ChunkLocations locations, Duration timeout) {
    this(transport, locations, timeout, RETRY_WINDOW);
  }

  /** {@code retryWindow} zero: exactly {@link #MAX_ATTEMPTS} attempts, no pauses (tests). */
  ReplicaWriter(ShoalTransport transport, ChunkLocations locations, Duration timeout,
      Duration retryWindow) {
    this.transport = transport;
    this.locations = locations;
    this.timeout = timeout;
    this.retryWindow = retryWindow;
  }

  /**
   * Sends the first attempt of {@code op} (chunk, offset, data, sync set; version and chain are
   * filled here). {@code known} is the cached location, or null when the chunk map has none.
   */
  Attempt start(WriteChunkOp op, ChunkLocation known, MemberView view) throws RpcException {
    return send(op, usable(op, known, view), view);
  }

  /** Waits for {@code first} and retries as the class comment says; returns once written. */
  void finish(Attempt first) throws RpcException {
    Attempt attempt = first;
    long giveUpAt = System.nanoTime() + retryWindow.toNanos();
    for (int n = 1; ; n++) {
      Failure failure = failureOf(attempt);
      if (failure == null) {
        return;
      }
      if (!failure.retryable()) {
        throw failure.error();
      }
      long deadline = failure.fenced() && !retryWindow.isZero()
          ? giveUpAt + COPY_WAIT.toNanos() : giveUpAt;
      if (n >= MAX_ATTEMPTS && System.nanoTime() - deadline >= 0) {
        throw gaveUp(attempt, failure);
      }
      if (!retryWindow.isZero()) {
        pause(n, attempt);
      }
      LOG.debug("write to chunk {}/{} v{} via {}: {}; retrying", attempt.op().getChunk().getInode(),
          ChunkLocations.indexOf(attempt.op().getChunk()), attempt.location().getVersion(),
          attempt.head(), failure.error().getMessage());
      ChunkLocation next = recover(attempt, failure);
      MemberView view = MemberView.of(transport);
      attempt = send(attempt.op(), usable(attempt.op(), next, view), view);
    }
  }

  /** 50 ms after the first failure, doubling up to a second: lets membership and elections settle. */
  private static void pause(int failures, Attempt attempt) throws RpcException {
    try {
      Thread.sleep(Math.min(MAX_PAUSE_MS, 50L << Math.min(failures - 1, 5)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RpcException(Status.EIO, "interrupted while retrying a write to chunk "
          + attempt.op().getChunk().getInode());
    }
  }

  /**
   * What went wrong with an attempt; null when it succeeded. {@code fenced}: not sent because
   * the chunk is being copied.
   */
  private record Failure(RpcException error, boolean notSent, boolean headUnreachable,
      String failedMember, boolean fenced) {
    boolean retryable() {
      Status s = error.status();
      return notSent || headUnreachable || s == Status.REPLICA_FAILED || s == Status.STALE_VERSION;
    }
  }

  private Failure failureOf(Attempt attempt) {
    DataResponse r;
    try {
      r = Replies.await(attempt.reply(), timeout);
    } catch (RpcException e) {
      if (!attempt.sent()) {
        return new Failure(e, true, false, null, attempt.location().getCopying());
      }
      return new Failure(e, false, Replies.isUnreachable(e), null, false);
    }
    if (r.getStatus() == Status.OK) {
      return null;
    }
    return new Failure(new RpcException(r.getStatus(), r.getError()), false, false,
        r.getFailedMember(), false);
  }

  /** The location to try next, after telling the chunk map what failed. */
  private ChunkLocation recover(Attempt attempt, Failure failure) throws RpcException {
    long version = attempt.location().getVersion();
    if (failure.fenced()) {
      return locations.refresh(attempt.op().getChunk()).orElse(null);
    }
    if (failure.notSent()) {
      return attempt.location();
    }
    if (failure.headUnreachable()) {
      return locations.reportFailure(attempt.op().getChunk(), version, attempt.head());
    }
    if (failure.error().status() == Status.REPLICA_FAILED) {
      String failed = failure.failedMember() == null || failure.failedMember().isEmpty()
          ? attempt.head() : failure.failedMember();
      return locations.reportFailure(attempt.op().getChunk(), version, failed);
    }
    return locations.refresh(attempt.op().getChunk()).orElse(null); // STALE_VERSION
  }

  /**
   * {@code known} if the chunk exists and all its replicas are on data nodes that are up; else
   * a fresh allocation.
   */
  private ChunkLocation usable(WriteChunkOp op, ChunkLocation known, MemberView view)
      throws RpcException {
    if (known != null && known.getReplicasCount() > 0
        && view.allOnDataNodes(known.getReplicasList())) {
      return known;
    }
    return locations.allocate(op.getChunk());
  }

  private Attempt send(WriteChunkOp op, ChunkLocation loc, MemberView view) {
    if (loc.getCopying()) {
      // Sending it would land a write the healer's copy may miss; wait for the next version.
      return new Attempt(op, loc, CompletableFuture.failedFuture(new RpcException(
          Status.UNAVAILABLE, "chunk " + op.getChunk().getInode() + "/"
          + ChunkLocations.indexOf(op.getChunk()) + " v" + loc.getVersion()
          + " is being copied to a new replica")), false);
    }
    List<String> rest = loc.getReplicasList().subList(1, loc.getReplicasCount());
    CompletableFuture<DataResponse> reply;
    try {
      List<String> chain = new ArrayList<>(rest.size());
      for (String id : rest) {
        chain.add(view.address(id));
      }
      WriteChunkOp versioned = op.toBuilder()
          .setVersion(loc.getVersion())
          .clearChain().addAllChain(chain)
          .clearChainIds().addAllChainIds(rest)
          .build();
      reply = transport.dataAt(view.address(loc.getReplicas(0)),
          DataRequest.newBuilder().setWrite(versioned).build());
      return new Attempt(versioned, loc, reply, true);
    } catch (RpcException e) {
      // The chunk map names a member this client's view does not know yet (it just joined):
      // nothing to report, try again with a fresher view.
      return new Attempt(op, loc, CompletableFuture.failedFuture(e), false);
    }
  }

  private static RpcException gaveUp(Attempt attempt, Failure failure) {
    Status s = failure.error().status();
    String what = "write to chunk " + attempt.op().getChunk().getInode() + "/"
        + ChunkLocations.indexOf(attempt.op().getChunk()) + " failed " + MAX_ATTEMPTS
        + " times, last: " + failure.error().getMessage();
    // Nobody reachable is worth trying again later (EAGAIN, ETIMEDOUT); a chain that keeps
    // failing is an I/O error.
    return s == Status.UNAVAILABLE || s == Status.DEADLINE_EXCEEDED
        ? new RpcException(s, what)
        : new RpcException(Status.EIO, what);
  }
}
