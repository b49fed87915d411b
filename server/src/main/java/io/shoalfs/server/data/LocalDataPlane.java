package io.shoalfs.server.data;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.server.DataPlaneOrchestrator;
import io.shoalfs.server.LocalReadEndpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane of one server: its chunk store, a bounded pool of threads doing the disk
 * work (callers are Netty event loops and must never wait on a disk), and, when given a
 * {@link GarbageSource}, the {@link ChunkReaper}.
 *
 * <p>Replication: a write with a chain is written here on the pool while a
 * {@link ChainForwarder} sends it on; a ReplicateChunkOp is run by a {@link ChunkReplicator}.
 * Both wait for peers by composing futures, never by holding a pool thread, so chains that cross
 * (A forwards to B while B forwards to A) cannot deadlock the pools. With
 * {@link ReplicaSettings}, the plane also runs the {@link OrphanCollector}. The healer is not
 * the data plane's: it runs beside the metadata group, wherever the topology puts that.
 */
public final class LocalDataPlane implements DataPlaneOrchestrator {
  private static final Logger LOG = LoggerFactory.getLogger(LocalDataPlane.class);

  private final DataPlaneSettings settings;
  private final GarbageSource garbage;
  private final ReplicaSettings replicas;
  /** Where to offer short-circuit local reads; null: none. */
  private volatile Path localReadSocket;
  private volatile Running running;
  private volatile boolean closed;

  /** A data plane that does not collect garbage (somebody else calls deleteFile). */
  public LocalDataPlane(DataPlaneSettings settings) {
    this(settings, null, null);
  }

  /**
   * A data plane that is one replica among several (see {@link ReplicaSettings}); null
   * replicas = single node, which still forwards chains and pulls replicas, over
   * connections of its own. With {@code garbage}, it reaps the chunks of deleted files it
   * holds, as the member {@code replicas} names (so garbage needs replicas).
   */
  public LocalDataPlane(DataPlaneSettings settings, GarbageSource garbage,
      ReplicaSettings replicas) {
    if (garbage != null && replicas == null) {
      throw new IllegalArgumentException("reaping garbage needs the member id of ReplicaSettings");
    }
    this.settings = settings;
    this.garbage = garbage;
    this.replicas = replicas;
  }

  /**
   * Offers short-circuit local reads on {@code socket} once started ({@link LocalReadService});
   * a host that cannot is logged and served over the network only. Before {@link #start}.
   */
  public LocalDataPlane offeringLocalReads(Path socket) {
    this.localReadSocket = socket;
    return this;
  }

  @Override
  public Optional<LocalReadEndpoint> localReads() {
    Running r = running;
    return r == null || r.localReads == null ? Optional.empty()
        : Optional.of(r.localReads.endpoint());
  }

  @Override
  public synchronized void start() throws IOException {
    if (closed) {
      throw new IOException("data plane is closed");
    }
    if (running != null) {
      return;
    }
    ChunkStore store = new ChunkStore(settings.dataDir(), settings.chunkSize(),
        settings.blockSize());
    VolumeUsage volume = new VolumeUsage(store);
    DataRequestHandler handler = new DataRequestHandler(store, volume);
    ThreadPoolExecutor executor = new ThreadPoolExecutor(settings.ioThreads(),
        settings.ioThreads(), 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(settings.maxQueuedRequests()), new DaemonThreads("data-io"));
    ChunkReaper reaper = null;
    if (garbage != null) {
      reaper = new ChunkReaper(garbage, store, replicas.memberId(), settings.reapPeriod(),
          settings.reapBatchSize());
      reaper.start();
    }
    // Created lazily per address, so a single node that never forwards opens nothing.
    DownstreamClients downstream = replicas != null ? replicas.downstream()
        : new DownstreamClients();
    OrphanCollector orphans = null;
    if (replicas != null && replicas.checker() != null && !replicas.orphanPeriod().isZero()) {
      orphans = new OrphanCollector(store, replicas.memberId(), replicas.checker(),
          replicas.orphanPeriod(), replicas.orphanGrace());
      orphans.start();
    }
    LocalReadService localReads = localReadSocket == null ? null
        : LocalReadService.start(store, localReadSocket).orElse(null);
    running = new Running(store, handler, volume, executor, reaper, orphans, localReads,
        new ChainForwarder(downstream), new ChunkReplicator(store, executor, downstream),
        replicas == null ? downstream : null);
    LOG.info("data plane started on {} ({} MiB chunks, {} KiB blocks, {} used bytes)",
        settings.dataDir(), settings.chunkSize() >> 20, settings.blockSize() >> 10,
        store.usedBytes());
  }

  @Override
  public CompletableFuture<DataResponse> handle(DataRequest request) {
    Running r = running;
    if (r == null || closed) {
      return CompletableFuture.completedFuture(unavailable(closed ? "data plane is closed"
          : "data plane is not started"));
    }
    switch (request.getOpCase()) {
      case REPLICATE:
        return r.replicator.replicate(request.getReplicate());
      case WRITE:
        if (request.getWrite().getChainCount() > 0) {
          // Forwarded at once, not after this copy is on disk: the chain's latency is then one
          // disk write plus the hops, not one disk write per replica (HDFS pipelines the same
          // way). This copy's failure is the answer even when the rest of the chain wrote:
          // the writer retries or reports it, as it did when a failure stopped the forward.
          CompletableFuture<DataResponse> rest = r.forwarder.forward(request.getWrite());
          return local(r, request).thenCombine(rest,
              (here, below) -> here.getStatus() == Status.OK ? below : here);
        }
        return local(r, request);
      default:
        return local(r, request);
    }
  }

  private static CompletableFuture<DataResponse> local(Running r, DataRequest request) {
    try {
      return CompletableFuture.supplyAsync(() -> r.handler.handle(request), r.executor);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.completedFuture(unavailable(
          r.executor.isShutdown() ? "data plane is closed" : "data plane is overloaded"));
    }
  }

  /** Reads the volume's counters on the calling thread (a statfs: cheap, not disk I/O). */
  @Override
  public StorageStats storageStats() {
    Running r = running;
    if (r == null) {
      throw new IllegalStateException("data plane is not started");
    }
    try {
      return r.volume.stats();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The store, for the wiring and for tests; null before start. */
  public ChunkStore chunkStore() {
    Running r = running;
    return r == null ? null : r.store;
  }

  /**
   * Stops the background work (orphan collector, reaper), lets queued requests
   * finish (up to 10 s), then closes the files.
   */
  @Override
  public synchronized void close() throws IOException {
    closed = true;
    Running r = running;
    if (r == null) {
      return;
    }
    if (r.localReads != null) {
      r.localReads.close();
    }
    if (r.orphans != null) {
      r.orphans.close();
    }
    if (r.reaper != null) {
      r.reaper.close();
    }
    r.executor.shutdown();
    try {
      if (!r.executor.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("data requests still running after 10 s; interrupting them");
        r.executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      r.executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (r.ownDownstream != null) {
      r.ownDownstream.close();
    }
    r.store.close();
  }

  private static DataResponse unavailable(String why) {
    return DataResponse.newBuilder().setStatus(Status.UNAVAILABLE).setError(why).build();
  }

  private record Running(ChunkStore store, DataRequestHandler handler, VolumeUsage volume,
      ThreadPoolExecutor executor, ChunkReaper reaper, OrphanCollector orphans,
      LocalReadService localReads, ChainForwarder forwarder, ChunkReplicator replicator, DownstreamClients ownDownstream) {}

  private static final class DaemonThreads implements ThreadFactory {
    private final String prefix;
    private final AtomicInteger count = new AtomicInteger();

    DaemonThreads(String prefix) {
      this.prefix = prefix;
    }

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  }
}
