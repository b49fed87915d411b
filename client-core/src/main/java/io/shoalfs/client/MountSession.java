package io.shoalfs.client;

import io.shoalfs.proto.CloseSessionOp;
import io.shoalfs.proto.KeepAliveOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.OpenSessionOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This mount's session with the metadata service: the client id its mutations carry, with a
 * fresh sequence number each, so that a resent one is answered from the reply table instead of
 * being applied twice. The replies, the mount's locks and the files it keeps open with no name
 * left belong to the session on the servers.
 *
 * <p>Opened before the first mutation, kept alive every {@link #KEEP_ALIVE_SECONDS} (the servers
 * end a session silent for 20 s of a moving log), closed at unmount, which drops its replies and
 * frees its orphans at once. A session the servers ended (the mount was frozen or cut off for
 * longer than that) is replaced by a new one: the call that found it ended fails with EIO, since
 * it may or may not have been applied, and later calls run in the new session.
 */
final class MountSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MountSession.class);
  static final long KEEP_ALIVE_SECONDS = 5;
  private static final SecureRandom IDS = new SecureRandom();

  private final ShoalTransport transport;
  private final Duration timeout;
  private final AtomicLong nextSeq = new AtomicLong(1);
  private volatile long id;
  /** Set by {@link #start}: unstarted (as in unit tests of other parts), calls go unsessioned. */
  private volatile boolean started;
  private volatile boolean open;
  private ScheduledExecutorService keepAlive;
  private volatile Events events = new Events() { };

  /** What a mount's other parts need to hear of its session. */
  interface Events {
    /** The servers ended the session: what it held there is gone. */
    default void ended() { }

    /** A keep-alive answer listed capabilities the servers are recalling. */
    default void recalled(List<Long> dirs) { }
  }

  /** A fresh client id for a mount or another front end: random, and never 0 (no id). */
  static long randomClientId() {
    long id;
    do {
      id = IDS.nextLong();
    } while (id == 0);
    return id;
  }

  MountSession(ShoalTransport transport, Duration timeout, long id) {
    this.transport = transport;
    this.timeout = timeout;
    this.id = id;
  }

  void onEvents(Events listener) {
    this.events = listener;
  }

  long id() {
    return id;
  }

  /** Opens the session now (the mount starts); a failure leaves it to the first mutation. */
  void start() {
    started = true;
    try {
      ensureOpen();
    } catch (RpcException e) {
      LOG.warn("cannot open a session yet (the first mutation tries again): {}", e.toString());
    }
  }

  /** Numbers {@code request} in this session, opening the session first if need be. */
  MetaRequest.Builder stamp(MetaRequest.Builder request) throws RpcException {
    if (started) {
      ensureOpen();
    }
    return request.setClientId(id).setRequestSeq(nextSeq.getAndIncrement());
  }

  /**
   * Called with a mutation's answer: if the servers ended the session it ran in, a new session
   * replaces it (once, however many calls found it ended).
   */
  void answered(MetaRequest request, MetaResponse response) {
    if (response.getStatus() == Status.SESSION_EXPIRED) {
      replace(request.getClientId());
    }
  }

  private synchronized void ensureOpen() throws RpcException {
    if (open) {
      return;
    }
    MetaRequest request = MetaRequest.newBuilder().setClientId(id)
        .setRequestSeq(nextSeq.getAndIncrement())
        .setOpenSession(OpenSessionOp.newBuilder().setNowNs(NanoTimes.nowNs())).build();
    Replies.ok(Replies.await(transport.meta(request), timeout));
    open = true;
    if (keepAlive == null) {
      keepAlive = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "session-keepalive");
        t.setDaemon(true);
        return t;
      });
      keepAlive.scheduleWithFixedDelay(this::keepAlive, KEEP_ALIVE_SECONDS, KEEP_ALIVE_SECONDS,
          TimeUnit.SECONDS);
    }
  }

  private synchronized void replace(long ended) {
    if (ended != id) {
      return; // replaced already
    }
    long fresh = IDS.nextLong();
    LOG.error("the metadata service ended session {} (this mount was not heard from for too "
        + "long): its locks and unflushed calls are lost; continuing as session {}",
        Long.toHexString(ended), Long.toHexString(fresh));
    id = fresh;
    open = false;
    events.ended();
  }

  private void keepAlive() {
    MetaRequest request;
    try {
      request = stamp(MetaRequest.newBuilder()
          .setKeepAlive(KeepAliveOp.newBuilder().setNowNs(NanoTimes.nowNs()))).build();
    } catch (RpcException e) {
      LOG.warn("cannot open a session: {}", e.toString());
      return;
    }
    try {
      MetaResponse answer = Replies.await(transport.meta(request), timeout);
      answered(request, answer);
      Replies.ok(answer);
      if (answer.getRecalledDirsCount() > 0) {
        events.recalled(answer.getRecalledDirsList());
      }
    } catch (RpcException | RuntimeException e) {
      LOG.warn("session keep-alive failed (the session ends if this lasts): {}", e.toString());
    }
  }

  /** Ends the session on the servers (best effort: one that is not heard from expires anyway). */
  @Override
  public synchronized void close() {
    if (keepAlive != null) {
      keepAlive.shutdownNow();
    }
    if (!open) {
      return;
    }
    open = false;
    MetaRequest request = MetaRequest.newBuilder().setClientId(id)
        .setRequestSeq(nextSeq.getAndIncrement())
        .setCloseSession(CloseSessionOp.getDefaultInstance()).build();
    try {
      Replies.ok(Replies.await(transport.meta(request), Duration.ofSeconds(5)));
    } catch (RpcException | RuntimeException e) {
      LOG.warn("could not close session {} (it expires instead): {}", Long.toHexString(id),
          e.toString());
    }
  }
}
