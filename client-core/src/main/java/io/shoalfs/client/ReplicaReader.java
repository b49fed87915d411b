package io.shoalfs.client;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one piece of one chunk from its replicas, in chain order with those on up data nodes
 * first, moving on to the next replica when one cannot serve it:
 * <ul>
 *   <li>CORRUPT: report the replica (the chunk map drops it; the healer makes a new copy), next;
 *   <li>EIO, UNAVAILABLE, DEADLINE_EXCEEDED: next;
 *   <li>ENOENT: next; when every replica says so the chunk holds nothing yet (a hole);
 *   <li>STALE_VERSION: this client's location is old: ask the chunk map again and start over,
 *       once.
 * </ul>
 * When every replica failed, the last failure is the answer.
 */
final class ReplicaReader {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaReader.class);

  /** A read in progress: where it is in the replica order, and the current replica's answer. */
  static final class Attempt {
    private final ReadChunkOp op;
    private ChunkLocation location;
    private List<String> order;
    private int next;
    private CompletableFuture<DataResponse> reply;

    private Attempt(ReadChunkOp op) {
      this.op = op;
    }

    private String replica() {
      return order.get(next);
    }
  }

  private final ShoalTransport transport;
  private final ChunkLocations locations;
  private final Duration timeout;
  private final ShortCircuitReads shortCircuit;

  ReplicaReader(ShoalTransport transport, ChunkLocations locations, Duration timeout) {
    this(transport, locations, timeout, ShortCircuitReads.disabled());
  }

  ReplicaReader(ShoalTransport transport, ChunkLocations locations, Duration timeout,
      ShortCircuitReads shortCircuit) {
    this.transport = transport;
    this.locations = locations;
    this.timeout = timeout;
    this.shortCircuit = shortCircuit;
  }

  /**
   * Reads the piece from a current copy on this host if there is one ({@link
   * ShortCircuitReads}: the answer is then already there), else sends the read to the first
   * replica of {@code location} (which must exist).
   */
  Attempt start(ChunkId chunk, long offset, int length, ChunkLocation location, MemberView view) {
    Attempt a = new Attempt(ReadChunkOp.newBuilder()
        .setChunk(chunk)
        .setOffset(offset)
        .setLength(length)
        .build());
    Optional<ByteString> local = shortCircuit.read(chunk, offset, length, location, view);
    if (local.isPresent()) {
      a.location = location;
      a.order = List.of();
      a.reply = CompletableFuture.completedFuture(
          DataResponse.newBuilder().setStatus(Status.OK).setData(local.get()).build());
      return a;
    }
    restart(a, location, view);
    return a;
  }

  /** The bytes the chunk holds in the asked range (short past its end, empty for a hole). */
  ByteString finish(Attempt a) throws RpcException {
    boolean refreshed = false;
    RpcException last = null;
    while (true) {
      RpcException failure;
      try {
        DataResponse r = Replies.await(a.reply, timeout);
        if (r.getStatus() == Status.OK) {
          return r.getData();
        }
        failure = new RpcException(r.getStatus(), r.getError());
      } catch (RpcException e) {
        failure = e;
      }
      switch (failure.status()) {
        case STALE_VERSION -> {
          if (!refreshed) {
            refreshed = true;
            Optional<ChunkLocation> fresh = locations.refresh(a.op.getChunk());
            if (fresh.isEmpty()) {
              return ByteString.EMPTY; // the chunk is gone from the map: a hole now
            }
            restart(a, fresh.get(), MemberView.of(transport));
            continue;
          }
          last = failure;
        }
        case CORRUPT -> {
          report(a);
          last = failure;
        }
        case ENOENT -> { } // this replica has no copy; the others may
        case EIO, UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL -> last = failure;
        default -> throw failure; // EINVAL, EFBIG, ...: the same anywhere
      }
      LOG.debug("read of chunk {}/{} from {}: {}", a.op.getChunk().getInode(),
          ChunkLocations.indexOf(a.op.getChunk()), a.replica(), failure.getMessage());
      a.next++;
      if (a.next >= a.order.size()) {
        if (last == null) {
          return ByteString.EMPTY; // every replica said ENOENT: never written
        }
        throw last;
      }
      send(a, MemberView.of(transport));
    }
  }

  private void restart(Attempt a, ChunkLocation location, MemberView view) {
    a.location = location;
    a.order = view.dataNodesFirst(location.getReplicasList());
    a.next = 0;
    send(a, view);
  }

  private void send(Attempt a, MemberView view) {
    try {
      ReadChunkOp op = a.op.toBuilder().setVersion(a.location.getVersion()).build();
      a.reply = transport.dataAt(view.address(a.replica()),
          DataRequest.newBuilder().setRead(op).build());
    } catch (RpcException e) {
      a.reply = CompletableFuture.failedFuture(e);
    }
  }

  /** A bad copy must not be served again; the read itself goes on even if the report fails. */
  private void report(Attempt a) {
    try {
      locations.reportFailure(a.op.getChunk(), a.location.getVersion(), a.replica());
    } catch (RpcException e) {
      LOG.warn("could not report corrupt copy of chunk {}/{} on {}: {}", a.op.getChunk().getInode(),
          ChunkLocations.indexOf(a.op.getChunk()), a.replica(), e.getMessage());
    }
  }
}
