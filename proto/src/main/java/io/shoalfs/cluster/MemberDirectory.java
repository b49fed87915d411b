package io.shoalfs.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberState;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current member set, kept in step with etcd: {@link #start()} loads the
 * {@code /shoalfs/members/} prefix, then watches it from the next revision. If the watch fails
 * (etcd restarted, revision compacted, stream closed), it loads the prefix again, reports the
 * difference as events, and watches anew, retrying with backoff while open.
 *
 * <p>Threading: the member map and the listeners are driven by one private thread, so events
 * arrive in revision order; readers ({@link #members()}, {@link #awaitMembers}) may be on any
 * thread. The etcd client belongs to the caller and is not closed here.
 *
 * <p>A member whose key goes away is not forgotten: it turns {@code down} at once, and
 * {@code dead} once it has stayed down for the grace period given at construction (a task
 * scheduled on the same thread when it goes down). Registering again makes it {@code up}.
 * Only what this directory has seen since {@link #start()} is known: a member that was gone
 * before then is not listed at all. {@link #isDead} still answers for it: a member never seen
 * counts as dead once the grace period has passed since the first load (a whole cluster
 * restarting is not declared dead at once; one that never comes back is, in time).
 */
public final class MemberDirectory implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MemberDirectory.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration MIN_RETRY = Duration.ofMillis(100);
  private static final Duration MAX_RETRY = Duration.ofSeconds(5);
  /** How long a member stays down before it counts as dead, unless told otherwise. */
  public static final Duration DEFAULT_DEAD_AFTER = Duration.ofSeconds(60);
  /** How long {@link #start()} keeps trying to make the first load. */
  public static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final Client etcd;
  private final Duration deadAfter;
  private final ScheduledExecutorService loop;
  private final Map<String, Member> members = new ConcurrentHashMap<>();
  private final List<MembershipListener> listeners = new CopyOnWriteArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled after every change to {@link #members}, and on close. */
  private final Condition changed = lock.newCondition();

  /** Completed by the first successful load. */
  private final CompletableFuture<Void> loaded = new CompletableFuture<>();
  private volatile Exception lastLoadError;
  /** System.nanoTime() of the first successful load; null before it. */
  private volatile Long firstLoadNanos;
  private volatile boolean started;
  private volatile boolean closed;

  // Loop thread only.
  private final Backoff backoff = new Backoff(MIN_RETRY, MAX_RETRY);
  private Watch.Watcher watcher;
  /** Bumped whenever a watcher is given up, so its late callbacks are ignored. */
  private int watchGeneration;

  /** A directory with the default grace period, {@link #DEFAULT_DEAD_AFTER}. */
  public MemberDirectory(Client etcd) {
    this(etcd, DEFAULT_DEAD_AFTER);
  }

  /**
   * @param deadAfter how long a member must stay down (key gone) before it is declared dead
   */
  public MemberDirectory(Client etcd, Duration deadAfter) {
    if (deadAfter.isNegative()) {
      throw new IllegalArgumentException("deadAfter must not be negative: " + deadAfter);
    }
    this.etcd = etcd;
    this.deadAfter = deadAfter;
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "member-directory");
              t.setDaemon(true);
              return t;
            });
    // Pending dead-checks and retries are pointless once closed: drop them at shutdown, or
    // close() would wait out a grace period.
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.loop = executor;
  }

  /**
   * Loads the member set and starts watching it. Call once.
   *
   * @throws IOException if etcd could not be read in time (the directory is then closed)
   */
  public MemberDirectory start() throws IOException {
    return start(START_TIMEOUT);
  }

  /**
   * Loads the member set and starts watching it, retrying with backoff for up to
   * {@code timeout}: the first call over a fresh etcd connection can be slow on a loaded
   * machine, and a server should not give up on its first try. Call once.
   *
   * @throws IOException if etcd could not be read in time (the directory is then closed),
   *     naming the last error
   */
  public MemberDirectory start(Duration timeout) throws IOException {
    synchronized (this) {
      if (closed || started) {
        throw new IllegalStateException(closed ? "directory is closed" : "already started");
      }
      started = true;
    }
    loop.execute(this::loadOrRetry);
    try {
      loaded.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return this;
    } catch (InterruptedException e) {
      close();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while loading members from etcd", e);
    } catch (ExecutionException | TimeoutException e) {
      close();
      Exception cause = lastLoadError;
      throw new IOException(
          "cannot load members under " + MemberKeys.PREFIX + " from etcd within " + timeout
              + ": " + (cause != null ? cause : "no answer"),
          cause);
    }
  }

  /** Every member known now, whatever its state (up, down, dead), ordered by id. */
  public List<Member> members() {
    List<Member> list = new ArrayList<>(members.values());
    list.sort(Comparator.comparing(Member::id));
    return list;
  }

  /** The members that are up now, ordered by id. */
  public List<Member> liveMembers() {
    return members().stream().filter(Member::isUp).toList();
  }

  /** How long a member stays down before it is declared dead. */
  public Duration deadAfter() {
    return deadAfter;
  }

  public Optional<Member> member(String id) {
    return Optional.ofNullable(members.get(id));
  }

  /**
   * True if member {@code id} is dead: declared dead after staying down for the grace period,
   * or never seen since this directory's first load and the grace period has passed since
   * then. A holder the chunk map names that was gone before this directory started (its
   * state removed while the cluster was down) would otherwise never count as dead.
   */
  public boolean isDead(String id) {
    Member m = members.get(id);
    return m != null ? m.isDead() : unlistedAreDead();
  }

  /**
   * The members known now as one {@link ClusterView}, in which a member never seen is dead
   * exactly when {@link #isDead} would say so.
   */
  public ClusterView view() {
    return ClusterView.of(members().stream().map(Member::info).toList(), unlistedAreDead());
  }

  /** Whether the grace period has passed since the first load (never before it). */
  private boolean unlistedAreDead() {
    Long since = firstLoadNanos;
    return since != null && System.nanoTime() - since >= deadAfter.toNanos();
  }

  /**
   * Waits until at least {@code n} members are up.
   *
   * @return the members that are up at that moment
   * @throws TimeoutException naming how many of how many were known, and which
   */
  public List<Member> awaitMembers(int n, Duration timeout)
      throws TimeoutException, InterruptedException {
    long remaining = timeout.toNanos();
    lock.lock();
    try {
      while (upCount() < n) {
        if (closed) {
          throw new IllegalStateException("directory is closed");
        }
        if (remaining <= 0) {
          throw new TimeoutException(
              "only "
                  + upCount()
                  + " of "
                  + n
                  + " members up after "
                  + timeout
                  + ": "
                  + members().stream()
                      .map(m -> m.id() + "@" + m.address() + " "
                          + ClusterView.stateName(m.state()))
                      .toList());
        }
        remaining = changed.awaitNanos(remaining);
      }
      return liveMembers();
    } finally {
      lock.unlock();
    }
  }

  private int upCount() {
    int n = 0;
    for (Member m : members.values()) {
      if (m.isUp()) {
        n++;
      }
    }
    return n;
  }

  /** Adds a listener for changes from now on; close the returned handle to remove it. */
  public AutoCloseable subscribe(MembershipListener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    loaded.completeExceptionally(new IllegalStateException("directory is closed"));
    try {
      loop.execute(this::stopWatching);
    } catch (RejectedExecutionException e) {
      // already shut down
    }
    loop.shutdown();
    try {
      if (!loop.awaitTermination(CALL_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS)) {
        loop.shutdownNow();
      }
    } catch (InterruptedException e) {
      loop.shutdownNow();
      Thread.currentThread().interrupt();
    }
    signalChanged(); // wake waiters so they see the close
  }

  // ------------------------------------------------------------------ loop thread only

  /** One attempt: read the prefix, reconcile the map with it, watch from the next revision. */
  private void loadAndWatch() throws Exception {
    GetResponse r =
        etcd.getKVClient()
            .get(MemberKeys.prefix(), GetOption.builder().isPrefix(true).build())
            .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    long revision = r.getHeader().getRevision();
    Map<String, Member> fresh = new HashMap<>();
    Instant now = Instant.now();
    for (KeyValue kv : r.getKvs()) {
      Member m = parse(kv, now);
      if (m != null) {
        fresh.put(m.id(), m);
      }
    }
    List<MembershipEvent> events = new ArrayList<>();
    for (Member old : List.copyOf(members.values())) {
      if (!fresh.containsKey(old.id())) {
        keyDeleted(old.id(), now, events);
      }
    }
    for (Member m : fresh.values()) {
      keyPut(m, events);
    }
    publish(events);

    int gen = ++watchGeneration;
    stopWatching();
    watcher =
        etcd.getWatchClient()
            .watch(
                MemberKeys.prefix(),
                WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                new WatchListener(gen));
    backoff.reset();
    LOG.debug("member directory loaded {} members at revision {}", members.size(), revision);
  }

  /** Loads and watches; on failure tries again later, with backoff, until closed. */
  private void loadOrRetry() {
    if (closed) {
      return;
    }
    try {
      loadAndWatch();
      if (firstLoadNanos == null) {
        firstLoadNanos = System.nanoTime();
      }
      loaded.complete(null);
    } catch (InterruptedException e) {
      // closing
    } catch (Exception e) {
      lastLoadError = e;
      Duration delay = backoff.next();
      LOG.warn(
          "member directory could not reload from etcd, retrying in {} ms: {}",
          delay.toMillis(), e.toString());
      try {
        loop.schedule(this::loadOrRetry, delay.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException closing) {
        // closed meanwhile
      }
    }
  }

  private void onWatchResponse(int gen, WatchResponse response) {
    if (closed || gen != watchGeneration) {
      return;
    }
    List<MembershipEvent> events = new ArrayList<>();
    Instant now = Instant.now();
    for (WatchEvent e : response.getEvents()) {
      KeyValue kv = e.getKeyValue();
      switch (e.getEventType()) {
        case PUT -> {
          Member m = parse(kv, now);
          if (m != null) {
            keyPut(m, events);
          }
        }
        case DELETE -> {
          String id = MemberKeys.idOf(kv.getKey());
          if (id != null) {
            keyDeleted(id, now, events);
          }
        }
        default -> {}
      }
    }
    publish(events);
  }

  private void onWatchFailed(int gen, String why) {
    if (closed || gen != watchGeneration) {
      return; // a watcher we already gave up (closing it reports completion)
    }
    watchGeneration++;
    stopWatching();
    Duration delay = backoff.next();
    LOG.warn("member watch ended ({}): reloading in {} ms", why, delay.toMillis());
    try {
      loop.schedule(this::loadOrRetry, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private void keyPut(Member m, List<MembershipEvent> events) {
    Member old = members.put(m.id(), m);
    if (old == null) {
      events.add(new MembershipEvent(MembershipEvent.Type.JOINED, m));
    } else if (!old.isUp()) {
      events.add(new MembershipEvent(MembershipEvent.Type.UP, m));
    } else if (old.modRevision() != m.modRevision()) {
      events.add(new MembershipEvent(MembershipEvent.Type.UPDATED, m));
    }
  }

  /**
   * The one place a member goes down: it is kept, with what it last published, and a check is
   * scheduled for when the grace period ends.
   */
  private void keyDeleted(String id, Instant now, List<MembershipEvent> events) {
    Member old = members.get(id);
    if (old == null || !old.isUp()) {
      return; // unknown, or already down: the first disappearance is the one that counts
    }
    Member down = old.down(now);
    members.put(id, down);
    events.add(new MembershipEvent(MembershipEvent.Type.DOWN, down));
    try {
      loop.schedule(
          () -> declareDeadIfStillDown(id, now), deadAfter.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closing) {
      // closed meanwhile
    }
  }

  /**
   * The grace period of a member that went down at {@code wentDown} is over. If it came back
   * meanwhile (up, or down again later with a check of its own), there is nothing to do.
   */
  private void declareDeadIfStillDown(String id, Instant wentDown) {
    if (closed) {
      return;
    }
    Member m = members.get(id);
    if (m == null || m.state() != MemberState.DOWN || !wentDown.equals(m.downSince())) {
      return;
    }
    Member dead = m.dead();
    members.put(id, dead);
    publish(List.of(new MembershipEvent(MembershipEvent.Type.DEAD, dead)));
  }

  private void publish(List<MembershipEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    signalChanged();
    for (MembershipEvent e : events) {
      if (e.type() == MembershipEvent.Type.UPDATED) {
        // Members republish their free space every few seconds: not news.
        LOG.debug("member {} {} ({})", e.member().id(), e.type(), e.member().address());
      } else {
        LOG.info("member {} {} ({})", e.member().id(), e.type(), e.member().address());
      }
      for (MembershipListener l : listeners) {
        try {
          l.onChange(e);
        } catch (RuntimeException ex) {
          LOG.warn("membership listener {} failed on {}", l, e, ex);
        }
      }
    }
  }

  private void stopWatching() {
    Watch.Watcher w = watcher;
    watcher = null;
    if (w != null) {
      w.close();
    }
  }

  private void signalChanged() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private static Member parse(KeyValue kv, Instant now) {
    String id = MemberKeys.idOf(kv.getKey());
    if (id == null) {
      return null; // something else under the prefix: not ours to interpret
    }
    try {
      MemberInfo info = MemberInfo.parseFrom(kv.getValue().getBytes());
      if (!id.equals(info.getId())) {
        LOG.warn("ignoring member key {}: its info names member {}", id, info.getId());
        return null;
      }
      return new Member(info, kv.getModRevision(), now);
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("ignoring member key {}: value is not a MemberInfo ({})", id, e.getMessage());
      return null;
    }
  }

  /** jetcd calls this on its own threads: only hand over to our loop. */
  private final class WatchListener implements Watch.Listener {
    private final int gen;

    WatchListener(int gen) {
      this.gen = gen;
    }

    @Override
    public void onNext(WatchResponse response) {
      handOver(() -> onWatchResponse(gen, response));
    }

    @Override
    public void onError(Throwable t) {
      handOver(() -> onWatchFailed(gen, t.toString()));
    }

    @Override
    public void onCompleted() {
      handOver(() -> onWatchFailed(gen, "completed"));
    }

    private void handOver(Runnable r) {
      try {
        loop.execute(r);
      } catch (RejectedExecutionException e) {
        // closed
      }
    }
  }
}
