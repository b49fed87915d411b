package io.shoalfs.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberState;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server's presence in the cluster: its {@link MemberInfo} under {@code /shoalfs/members/<id>},
 * attached to a lease that this object keeps alive.
 *
 * <p>If the lease is lost (the keep-alive stream fails or completes, or etcd restarted and the
 * lease expired meanwhile) it grants a new lease and puts the key again, retrying with backoff for
 * as long as it is open. The key is re-put onto the new lease before the old lease is revoked, so
 * a directory never sees the member vanish during a re-registration it survives.
 *
 * <p>{@link #close()} revokes the lease, so the member disappears at once. The etcd client
 * belongs to the caller and is not closed here.
 *
 * <p>Threading: every change to the registration runs on one private thread; blocking on etcd
 * there is fine. Public methods are thread-safe.
 */
public final class MemberRegistration implements AutoCloseable {
  public static final long DEFAULT_TTL_SECONDS = 5;

  private static final Logger LOG = LoggerFactory.getLogger(MemberRegistration.class);
  private static final Duration MIN_RETRY = Duration.ofMillis(100);
  private static final Duration MAX_RETRY = Duration.ofSeconds(5);

  private final Client etcd;
  private final long ttlSeconds;
  /** Bound on each etcd call, so one hung attempt cannot stall the retry loop. */
  private final long callTimeoutMs;
  private final ByteSequence key;
  private final ScheduledExecutorService loop;
  private final Backoff backoff = new Backoff(MIN_RETRY, MAX_RETRY);

  private volatile MemberInfo info;
  private volatile boolean started;
  private volatile boolean closed;

  // Owned by the loop thread (volatile so that close() and the getters can read them).
  /** The lease the key is attached to; 0 while not registered. */
  private volatile long leaseId;
  private volatile CloseableClient keepAlive;
  /** Bumped whenever a lease is given up, so callbacks about an older lease are ignored. */
  private int generation;
  /** The lease of the last registration we lost, revoked once a new one holds the key. */
  private long staleLeaseId;
  /** Completes when registered; replaced by a fresh one when the registration is lost. */
  private volatile CompletableFuture<Long> registered = new CompletableFuture<>();

  public MemberRegistration(Client etcd, MemberInfo self) {
    this(etcd, self, DEFAULT_TTL_SECONDS);
  }

  /**
   * @param self what to publish; state is always published as up, and started_ms defaults to
   *     now when unset
   * @param ttlSeconds lease TTL: how long after a crash the member still appears present
   */
  public MemberRegistration(Client etcd, MemberInfo self, long ttlSeconds) {
    if (ttlSeconds < 1) {
      throw new IllegalArgumentException("lease TTL must be at least 1 second: " + ttlSeconds);
    }
    this.etcd = etcd;
    this.ttlSeconds = ttlSeconds;
    this.callTimeoutMs = Math.max(1000, Math.min(5000, ttlSeconds * 1000 / 2));
    this.key = MemberKeys.keyOf(self.getId());
    MemberInfo.Builder b = self.toBuilder().setState(MemberState.UP);
    if (b.getStartedMs() == 0) {
      b.setStartedMs(System.currentTimeMillis());
    }
    this.info = b.build();
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "member-registration-" + self.getId());
              t.setDaemon(true);
              return t;
            });
    // A retry waiting for its turn is pointless once closed: drop it at shutdown.
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.loop = executor;
  }

  /** Starts registering in the background; see {@link #awaitRegistered}. Call once. */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("registration of " + info.getId() + " is closed");
    }
    if (started) {
      throw new IllegalStateException("registration of " + info.getId() + " already started");
    }
    started = true;
    loop.execute(() -> attempt(generation));
  }

  /**
   * Waits until the member is registered (it may already be).
   *
   * @return the lease id
   * @throws TimeoutException if it is not registered within the timeout
   */
  public long awaitRegistered(Duration timeout) throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (closed) {
        throw new IllegalStateException("registration of " + info.getId() + " is closed");
      }
      CompletableFuture<Long> f = registered;
      long remaining = deadline - System.nanoTime();
      try {
        return f.get(Math.max(0, remaining), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        // Not used to signal failures; treat as "try the next one".
      } catch (TimeoutException e) {
        if (f == registered) {
          throw new TimeoutException(
              "member " + info.getId() + " not registered in etcd within " + timeout);
        }
      }
    }
  }

  /** Whether the key is currently published under a lease we keep alive. */
  public boolean isRegistered() {
    return leaseId != 0;
  }

  /** The lease holding the key, 0 while not registered. */
  public long leaseId() {
    return leaseId;
  }

  /** What this registration publishes. */
  public MemberInfo info() {
    return info;
  }

  public long ttlSeconds() {
    return ttlSeconds;
  }

  /**
   * Publishes new info (e.g. new free space). The id must not change; state stays up and an
   * unset started_ms keeps the old one. The future completes once etcd holds the new info: at
   * once if registered, else with the next successful registration. It fails if the put fails
   * (the registration then starts over and will publish this info).
   */
  public CompletableFuture<Void> update(MemberInfo newInfo) {
    if (!newInfo.getId().equals(info.getId())) {
      throw new IllegalArgumentException(
          "cannot change member id from " + info.getId() + " to " + newInfo.getId());
    }
    MemberInfo.Builder b = newInfo.toBuilder().setState(MemberState.UP);
    if (b.getStartedMs() == 0) {
      b.setStartedMs(info.getStartedMs());
    }
    info = b.build();
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      loop.execute(() -> publish(done));
    } catch (RejectedExecutionException e) {
      done.completeExceptionally(new IllegalStateException("registration is closed"));
    }
    return done;
  }

  /** Revokes the lease so the member disappears at once, and stops retrying. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    // No interrupt: an attempt under way finishes (its calls are bounded), so that a lease it
    // managed to attach the key to is in leaseId for the revoke below. Pending retries are dropped.
    loop.shutdown();
    try {
      if (!loop.awaitTermination(callTimeoutMs * 3, TimeUnit.MILLISECONDS)) {
        LOG.warn("registration loop of {} did not stop in time", info.getId());
        loop.shutdownNow();
      }
    } catch (InterruptedException e) {
      loop.shutdownNow();
      Thread.currentThread().interrupt();
    }
    registered.completeExceptionally(new IllegalStateException("registration is closed"));
    CloseableClient ka = keepAlive;
    if (ka != null) {
      ka.close();
    }
    long lease = leaseId;
    leaseId = 0;
    if (lease != 0) {
      try {
        etcd.getLeaseClient().revoke(lease).get(callTimeoutMs, TimeUnit.MILLISECONDS);
        LOG.info("member {} deregistered (lease {} revoked)", info.getId(), Long.toHexString(lease));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        LOG.warn(
            "could not revoke lease {} of member {}: it will expire in {}s ({})",
            Long.toHexString(lease), info.getId(), ttlSeconds, e.toString());
      }
    }
  }

  // ------------------------------------------------------------------ loop thread only

  private void attempt(int gen) {
    if (closed || gen != generation) {
      return;
    }
    long lease = 0;
    try {
      lease = await(etcd.getLeaseClient().grant(ttlSeconds)).getID();
      MemberInfo published = info;
      await(etcd.getKVClient().put(key, value(published), leaseOption(lease)));
      leaseId = lease; // from here on the key is on this lease: close() must revoke it
      keepAlive = etcd.getLeaseClient().keepAlive(lease, new LeaseObserver(gen, lease));
      backoff.reset();
      LOG.info(
          "member {} registered at {} (lease {}, ttl {}s)",
          published.getId(), published.getAddress(), Long.toHexString(lease), ttlSeconds);
      revokeStaleLease();
      registered.complete(lease);
    } catch (InterruptedException e) {
      revokeQuietly(lease); // close() is under way
    } catch (Exception e) {
      leaseId = 0;
      revokeQuietly(lease);
      Duration delay = backoff.next();
      LOG.warn(
          "member {} could not register in etcd, retrying in {} ms: {}",
          info.getId(), delay.toMillis(), rootMessage(e));
      schedule(() -> attempt(gen), delay);
    }
  }

  private void publish(CompletableFuture<Void> done) {
    if (closed) {
      done.completeExceptionally(new IllegalStateException("registration is closed"));
      return;
    }
    long lease = leaseId;
    if (lease == 0) {
      // Not registered now: the next registration carries the new info.
      registered.whenComplete(
          (l, t) -> {
            if (t == null) {
              done.complete(null);
            } else {
              done.completeExceptionally(t);
            }
          });
      return;
    }
    try {
      await(etcd.getKVClient().put(key, value(info), leaseOption(lease)));
      done.complete(null);
    } catch (InterruptedException e) {
      done.completeExceptionally(e);
    } catch (Exception e) {
      done.completeExceptionally(e);
      // Most likely the lease expired before the keep-alive noticed: start over.
      leaseLost(generation, lease, "update failed: " + rootMessage(e));
    }
  }

  private void leaseLost(int gen, long lease, String why) {
    if (closed || gen != generation) {
      return; // already handled, or about an older lease
    }
    generation++;
    LOG.warn(
        "member {} lost its lease {} ({}): registering again", info.getId(), Long.toHexString(lease),
        why);
    CloseableClient ka = keepAlive;
    keepAlive = null;
    if (ka != null) {
      ka.close();
    }
    leaseId = 0;
    staleLeaseId = lease;
    registered = new CompletableFuture<>();
    attempt(generation);
  }

  /**
   * The key now sits on the new lease, so revoking the old one (if it still exists, e.g. etcd
   * restored it after a restart) deletes nothing and just stops it lingering.
   */
  private void revokeStaleLease() {
    if (staleLeaseId != 0) {
      etcd.getLeaseClient().revoke(staleLeaseId);
      staleLeaseId = 0;
    }
  }

  private void revokeQuietly(long lease) {
    if (lease != 0) {
      etcd.getLeaseClient().revoke(lease); // fire and forget: it expires anyway
    }
  }

  private void schedule(Runnable r, Duration delay) {
    try {
      loop.schedule(r, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private <T> T await(CompletableFuture<T> f)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      return f.get(callTimeoutMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException | TimeoutException e) {
      f.cancel(true);
      throw e;
    }
  }

  private static ByteSequence value(MemberInfo i) {
    return ByteSequence.from(i.toByteArray());
  }

  private static PutOption leaseOption(long lease) {
    return PutOption.builder().withLeaseId(lease).build();
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.toString();
  }

  /**
   * jetcd calls this on its own threads while holding its locks: only hand over to our loop.
   * Any error or completion means jetcd stopped keeping this lease alive (it reports expiry as
   * NOT_FOUND and a missed deadline as completion), so both count as a loss.
   */
  private final class LeaseObserver implements StreamObserver<LeaseKeepAliveResponse> {
    private final int gen;
    private final long lease;

    LeaseObserver(int gen, long lease) {
      this.gen = gen;
      this.lease = lease;
    }

    @Override
    public void onNext(LeaseKeepAliveResponse response) {
      LOG.trace("lease {} kept alive, ttl {}s", Long.toHexString(lease), response.getTTL());
    }

    @Override
    public void onError(Throwable t) {
      handOver("keep-alive failed: " + rootMessage(t));
    }

    @Override
    public void onCompleted() {
      handOver("keep-alive deadline passed");
    }

    private void handOver(String why) {
      try {
        loop.execute(() -> leaseLost(gen, lease, why));
      } catch (RejectedExecutionException e) {
        // closed
      }
    }
  }
}
