package io.shoalfs.server.data;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.AddReplicaOp;
import io.shoalfs.proto.ChunkCounts;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.FenceChunkOp;
import io.shoalfs.proto.ListChunksOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReplicateChunkOp;
import io.shoalfs.proto.ReportReplicaFailureOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.BackgroundService;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The healer: every period, while this server leads the metadata group, pages through the
 * chunk map (at a bounded pace, {@link #DEFAULT_CHUNKS_PER_SECOND}) and brings each chunk
 * back to the replication factor.
 *
 * <p>Only data nodes (members with the data role that are up, see {@link ClusterView}) are
 * copied from or to: a member that serves metadata only is never a source or a target.
 *
 * <ul>
 *   <li>a replica on a member that is {@code dead} (down past the grace period, or never seen
 *       since the membership directory started, once that grace period has passed) is reported
 *       failed, which drops it and bumps the version (never the last replica);
 *   <li>a chunk with fewer replicas than the factor, and a replica on a data node to copy from,
 *       gets a new copy on the data node with the most free space that does not hold it: the
 *       chunk is fenced (fence_chunk), that node pulls it (ReplicateChunkOp) at the fenced
 *       version, then add_replica at that version makes it count;
 *   <li>a copy whose source served a corrupt block fails, and the source is reported.
 * </ul>
 *
 * <p>Why the fence: writes do not change a chunk's version, so without one a write that lands
 * on the source behind the piece the copy already read is missing from the copy, and nothing
 * could tell. Fenced, no write lands on the chunk while it is copied (writers wait for the
 * next version; the source, stamped with the fenced version first, refuses older ones), and
 * add_replica accepts only a copy made at the fenced version, so a replica the map records
 * has every acknowledged write. A copy that fails lifts its fence; a fence found by a pass
 * belongs to a copy that no longer runs (copies do not outlive their pass: another leader's,
 * or one cut off) and is lifted too. The cost: writes to that one chunk wait for its copy.
 *
 * <p>Members that are merely {@code down} are waited for, not replaced: they may come back
 * within the grace period. Copies run {@link #DEFAULT_PARALLEL_COPIES} at a time: a copy
 * spends most of its time in fsyncs and a Raft commit, and a dead server can leave thousands
 * of small chunks to copy, which one at a time takes many minutes. At most
 * {@link #DEFAULT_COPIES_PER_PASS} copies are planned per pass (in chunk-map order), so the
 * counts {@code shoal status} shows stay fresh and healing cannot swamp the data path.
 *
 * <p>Each pass also counts the chunks and the under-replicated ones (fewer replicas than
 * the factor, or a replica not on a data node) for {@code shoal status}, which serves the
 * counts of the last complete pass with its start and end, rather than reading the chunk map
 * again.
 *
 * <p>Runs on its own thread and waits for the control plane and peers there.
 */
public final class ReplicationManager implements BackgroundService {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicationManager.class);
  public static final int DEFAULT_COPIES_PER_PASS = 512;
  public static final int DEFAULT_PARALLEL_COPIES = 8;
  static final int PAGE_SIZE = 1000;
  /**
   * How fast a pass reads the chunk map: each page is a read on the metadata leader, and a map
   * of millions paged through at full speed every period would keep it busy. 100,000 chunks
   * take 5 s at this pace, a million 50 s (MooseFS's master spreads its chunk loop over at
   * least 300 s).
   */
  static final int DEFAULT_CHUNKS_PER_SECOND = 20_000;
  private static final Duration META_TIMEOUT = Duration.ofSeconds(30);
  /** A 64 MiB chunk in 4 MiB pieces, with room for a busy network. */
  private static final Duration REPLICATE_TIMEOUT = Duration.ofMinutes(5);

  /**
   * Chunks in the map, and those short of replicas, as one complete pass counted them: each
   * chunk was looked at (after the pass healed it) between {@code passStartedMs} and
   * {@code passEndedMs}, wall-clock milliseconds.
   */
  public record Counts(long chunks, long underReplicated, long passStartedMs,
      long passEndedMs) {

    /** As the leader publishes them in its member record, for {@code shoal status}. */
    public ChunkCounts published() {
      return ChunkCounts.newBuilder().setChunks(chunks).setUnderReplicated(underReplicated)
          .setPassStartedMs(passStartedMs).setPassEndedMs(passEndedMs).build();
    }
  }

  /** What one pass did. {@code ran} is false when this server was not the leader. */
  public record PassReport(boolean ran, long chunks, long underReplicated, int copied,
      int dropped) {}

  private final ControlPlaneOrchestrator control;
  private final Supplier<ClusterView> cluster;
  private final BooleanSupplier isLeader;
  private final int replication;
  private final DownstreamClients data;
  private final int copiesPerPass;
  private final int chunksPerSecond;
  private final ExecutorService copiers;
  private final PeriodicPass passes;
  private volatile Counts counts;

  /**
   * @param cluster the members as the membership directory sees them (states and roles); a
   *     replica on a member it does not list is dead as the view says (one never seen since the
   *     directory started, gone before the cluster restarted, is once the grace period has
   *     passed since then)
   * @param isLeader whether this server leads the metadata group right now
   * @param replication the replication factor (already capped at the cluster size)
   * @param data connections to the peers' data planes
   * @param period pause between passes
   */
  public ReplicationManager(ControlPlaneOrchestrator control, Supplier<ClusterView> cluster,
      BooleanSupplier isLeader, int replication, DownstreamClients data, Duration period) {
    this(control, cluster, isLeader, replication, data, period,
        DEFAULT_COPIES_PER_PASS, DEFAULT_PARALLEL_COPIES, DEFAULT_CHUNKS_PER_SECOND);
  }

  ReplicationManager(ControlPlaneOrchestrator control, Supplier<ClusterView> cluster,
      BooleanSupplier isLeader, int replication, DownstreamClients data, Duration period,
      int copiesPerPass, int parallelCopies, int chunksPerSecond) {
    if (replication < 1 || copiesPerPass < 1 || parallelCopies < 1 || chunksPerSecond < 1
        || period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("replication, copies per pass, parallel copies, pace"
          + " and period must be positive");
    }
    this.chunksPerSecond = chunksPerSecond;
    this.control = control;
    this.cluster = cluster;
    this.isLeader = isLeader;
    this.replication = replication;
    this.data = data;
    this.copiesPerPass = copiesPerPass;
    this.copiers = Executors.newFixedThreadPool(parallelCopies, r -> {
      Thread t = new Thread(r, "replication-copier");
      t.setDaemon(true);
      return t;
    });
    this.passes = new PeriodicPass("replication-manager", period, LOG, "healing pass",
        this::healAndLog);
  }

  /** Starts healing: the first pass one period from now, then one period after each. */
  public void start() {
    passes.start();
  }

  /**
   * The counts of the last complete pass as leader; empty before one ends, and from the first
   * pass that finds this server no longer leads.
   */
  public Optional<Counts> counts() {
    return Optional.ofNullable(counts);
  }

  /** Chunks short of replicas (or with a replica not up) at the last pass; 0 if unknown. */
  public long underReplicated() {
    Counts c = counts;
    return c == null ? 0 : c.underReplicated();
  }

  /** Chunks in the chunk map at the last pass; 0 if unknown. */
  public long chunkCount() {
    Counts c = counts;
    return c == null ? 0 : c.chunks();
  }

  /** One pass, on the calling thread. */
  public PassReport runOnce() throws IOException, InterruptedException {
    if (!isLeader.getAsBoolean()) {
      counts = null; // the leader's healer counts; ours would go stale
      return new PassReport(false, 0, 0, 0, 0);
    }
    ClusterView view = cluster.get();
    if (view.isEmpty()) {
      LOG.debug("no membership view yet; skipping the healing pass");
      return new PassReport(false, 0, 0, 0, 0);
    }
    long startedMs = System.currentTimeMillis();
    Pass pass = new Pass(view);
    Pace pace = new Pace(chunksPerSecond);
    long startInode = 0;
    int startIndex = 0;
    while (!passes.isClosed() && isLeader.getAsBoolean()) {
      MetaResponse page = meta(MetaRequest.newBuilder().setListChunks(ListChunksOp.newBuilder()
          .setStartInode(startInode).setStartIndex(startIndex).setLimit(PAGE_SIZE)).build());
      if (page.getStatus() != Status.OK) {
        throw new IOException("list_chunks failed: " + page.getStatus() + " "
            + page.getError());
      }
      for (ChunkLocation location : page.getLocationsList()) {
        pass.chunks++;
        pass.heal(location);
      }
      if (!page.getMoreChunks() || page.getLocationsCount() == 0) {
        pass.awaitCopies();
        counts = new Counts(pass.chunks, pass.underReplicated.get(), startedMs,
            System.currentTimeMillis());
        break;
      }
      pace.done(page.getLocationsCount());
      ChunkLocation last = page.getLocations(page.getLocationsCount() - 1);
      startInode = last.getChunk().getInode();
      startIndex = last.getChunk().getIndex() + 1;
      if (startIndex == 0) { // the index wrapped past 2^32 - 1
        startInode++;
      }
    }
    pass.awaitCopies(); // a pass cut short still waits for the copies it started
    return new PassReport(true, pass.chunks, pass.underReplicated.get(), pass.copied.get(),
        pass.dropped);
  }

  /** Stops the schedule and the copies, and waits for a pass in progress to notice. */
  @Override
  public void close() {
    passes.close();
    copiers.shutdownNow();
  }

  /**
   * The state of one pass: the membership snapshot it works from, its tallies, and the copies
   * it started. Dead replicas are dropped on the pass thread, in map order; the copies a
   * chunk needs are planned there too (so the budget goes to the first chunks in the map) and
   * made on the copier threads.
   */
  private final class Pass {
    final ClusterView view;
    long chunks;
    final AtomicLong underReplicated = new AtomicLong();
    final AtomicInteger copied = new AtomicInteger();
    int dropped;
    int planned;
    final List<Future<?>> copies = new ArrayList<>();

    Pass(ClusterView view) {
      this.view = view;
    }

    /** Drops dead replicas, then plans the copies the chunk needs, or counts it as it is. */
    void heal(ChunkLocation location) throws IOException, InterruptedException {
      ChunkLocation current = location;
      if (current.getCopying()) { // a fence no copy will end: writers would wait on it forever
        ChunkLocation lifted = fence(current, false);
        if (lifted == null) {
          countIfUnderReplicated(current);
          return;
        }
        current = lifted;
      }
      for (String replica : List.copyOf(current.getReplicasList())) {
        if (view.isDead(replica) && current.getReplicasCount() > 1) {
          ChunkLocation after = reportFailure(current, replica);
          if (after == null) {
            countIfUnderReplicated(current);
            return;
          }
          current = after;
          dropped++;
        }
      }
      int needed = replication - current.getReplicasCount();
      if (needed <= 0 || planned >= copiesPerPass || firstSource(current) == null) {
        countIfUnderReplicated(current);
        return;
      }
      planned += needed;
      ChunkLocation toCopy = current;
      copies.add(copiers.submit(() -> {
        ChunkLocation healed = toCopy;
        try {
          healed = copy(toCopy);
        } catch (IOException e) {
          LOG.warn("healing chunk {} failed: {}", name(toCopy), e.getMessage());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        countIfUnderReplicated(healed);
      }));
    }

    /** Waits for every copy this pass started. */
    void awaitCopies() throws InterruptedException {
      for (Future<?> f : copies) {
        try {
          f.get();
        } catch (ExecutionException e) {
          LOG.warn("a healing copy failed: {}", e.getCause().toString());
        } catch (CancellationException e) {
          // the manager is closing
        }
      }
      copies.clear();
    }

    private void countIfUnderReplicated(ChunkLocation location) {
      if (isUnderReplicated(location)) {
        underReplicated.incrementAndGet();
      }
    }

    /** Copies the chunk to data nodes until it has the factor; returns where it is now. */
    private ChunkLocation copy(ChunkLocation location) throws IOException, InterruptedException {
      ChunkLocation current = location;
      Set<String> tried = new HashSet<>();
      while (current.getReplicasCount() < replication && !passes.isClosed()) {
        MemberInfo source = firstSource(current);
        MemberInfo target = pickTarget(current, tried);
        if (source == null || target == null) {
          break;
        }
        tried.add(target.getId());
        ChunkLocation fenced = fence(current, true);
        if (fenced == null) {
          break;
        }
        DataResponse copy = replicate(fenced, source, target);
        if (copy != null && copy.getStatus() == Status.CORRUPT) {
          ChunkLocation after = reportFailure(fenced, source.getId()); // lifts the fence too
          if (after == null) {
            return fenced;
          }
          current = after;
          continue;
        }
        if (copy == null || copy.getStatus() != Status.OK) {
          if (copy != null) {
            LOG.warn("copying chunk {} to {} failed: {} {}", name(fenced), target.getId(),
                copy.getStatus(), copy.getError());
          }
          current = fence(fenced, false);
          if (current == null) {
            return fenced;
          }
          continue;
        }
        MetaResponse added = meta(MetaRequest.newBuilder().setAddReplica(AddReplicaOp
            .newBuilder().setChunk(fenced.getChunk()).setVersion(fenced.getVersion())
            .setMember(target.getId())).build());
        if (added.getStatus() != Status.OK || added.getLocationsCount() == 0) {
          // STALE_VERSION: the chunk moved on meanwhile (and with it the fence); the copy is
          // an orphan now.
          LOG.info("adding {} as a replica of chunk {} failed: {} {}", target.getId(),
              name(fenced), added.getStatus(), added.getError());
          break;
        }
        current = added.getLocations(0);
        copied.incrementAndGet();
      }
      return current;
    }

    /** Fewer replicas than the factor, or a replica not on a data node (down, dead, gone). */
    boolean isUnderReplicated(ChunkLocation location) {
      return location.getReplicasCount() < replication
          || !location.getReplicasList().stream().allMatch(view::isDataNode);
    }

    /** The first replica, in chain order, on a data node: the copy's source; null if none. */
    private MemberInfo firstSource(ChunkLocation location) {
      for (String replica : location.getReplicasList()) {
        if (view.isDataNode(replica)) {
          return view.member(replica).orElseThrow();
        }
      }
      return null;
    }

    /** The data node with the most free space that neither holds the chunk nor failed it. */
    private MemberInfo pickTarget(ChunkLocation location, Set<String> tried) {
      return view.dataNodes().stream()
          .filter(m -> !location.getReplicasList().contains(m.getId()))
          .filter(m -> !tried.contains(m.getId()))
          .max(Comparator.comparingLong(MemberInfo::getFreeBytes)
              .thenComparing(MemberInfo::getId, Comparator.reverseOrder()))
          .orElse(null);
    }

    /** The target's answer, or null when it could not be asked (logged). */
    private DataResponse replicate(ChunkLocation location, MemberInfo source, MemberInfo target)
        throws InterruptedException {
      DataRequest request = DataRequest.newBuilder().setReplicate(ReplicateChunkOp.newBuilder()
          .setChunk(location.getChunk()).setVersion(location.getVersion())
          .setSource(source.getAddress())).build();
      try {
        return await(data.send(target.getAddress(), request, REPLICATE_TIMEOUT),
            REPLICATE_TIMEOUT.plusSeconds(5), "replicating to " + target.getId());
      } catch (IOException e) {
        LOG.warn("copying chunk {} to {} failed: {}", name(location), target.getId(),
            e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
        return null;
      }
    }

    /**
     * The location after fencing the chunk for a copy ({@code fence}) or lifting the fence,
     * or null if that failed (logged): the chunk moved on, or the map could not be reached.
     */
    private ChunkLocation fence(ChunkLocation location, boolean fence)
        throws IOException, InterruptedException {
      MetaResponse r = meta(MetaRequest.newBuilder().setFenceChunk(FenceChunkOp.newBuilder()
          .setChunk(location.getChunk()).setVersion(location.getVersion()).setFence(fence))
          .build());
      if (r.getStatus() != Status.OK || r.getLocationsCount() == 0) {
        LOG.info("{} chunk {} failed: {} {}", fence ? "fencing" : "lifting the fence of",
            name(location), r.getStatus(), r.getError());
        return null;
      }
      return r.getLocations(0);
    }

    /** The location after dropping {@code member}, or null if the report failed (logged). */
    private ChunkLocation reportFailure(ChunkLocation location, String member)
        throws IOException, InterruptedException {
      MetaResponse r = meta(MetaRequest.newBuilder().setReportReplicaFailure(
          ReportReplicaFailureOp.newBuilder().setChunk(location.getChunk())
              .setVersion(location.getVersion()).setMember(member)).build());
      if (r.getStatus() != Status.OK || r.getLocationsCount() == 0) {
        LOG.warn("dropping replica {} of chunk {} failed: {} {}", member, name(location),
            r.getStatus(), r.getError());
        return null;
      }
      LOG.info("dropped replica {} of chunk {}", member, name(location));
      return r.getLocations(0);
    }
  }

  private MetaResponse meta(MetaRequest request) throws IOException, InterruptedException {
    return await(control.submit(request), META_TIMEOUT, request.getOpCase().toString());
  }

  private static <T> T await(CompletableFuture<T> future, Duration timeout, String what)
      throws IOException, InterruptedException {
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IOException(what + " failed", e.getCause());
    } catch (TimeoutException e) {
      future.cancel(false);
      throw new IOException(what + " timed out after " + timeout.toSeconds() + " s");
    }
  }

  private static String name(ChunkLocation location) {
    return new ChunkKey(location.getChunk().getInode(), location.getChunk().getIndex())
        + " v" + Long.toUnsignedString(location.getVersion());
  }

  private void healAndLog() throws IOException, InterruptedException {
    PassReport report = runOnce();
    if (report.copied() > 0 || report.dropped() > 0) {
      LOG.info("healing pass: {} chunks, {} under-replicated, {} copies made, {} replicas"
          + " dropped", report.chunks(), report.underReplicated(), report.copied(),
          report.dropped());
    }
  }
}
