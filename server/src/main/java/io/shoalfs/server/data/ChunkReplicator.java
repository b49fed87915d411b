package io.shoalfs.server.data;

import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkInfoOp;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.ReplicateChunkOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.rpc.RpcException;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this node's copy of a chunk a full copy of a peer's: first moves the source's copy to
 * the requested version (a durable, empty versioned write), so that from then on the source
 * refuses any write made with an older location (STALE_VERSION) and every write it took
 * before is in what follows; then asks the source for the copy's version and length, reads
 * it in 4 MiB pieces (each read checks the version and the
 * source verifies every block's CRC), writes them into a {@link StagedChunk} and installs
 * it at the requested version. Any failure throws the staged copy away: a half copy or a
 * copy of a corrupt block is never installed.
 *
 * <p>Network waits are composed futures, never a blocked thread; staging writes and the
 * install run on the data plane's disk executor.
 *
 * <p>The healer asks for a copy at the version it fenced the chunk at in the chunk map (see
 * ChunkMapWrites.fence): writers that ask the map wait while it is fenced, and writers with an
 * older location meet the stamped source, so no write lands on the source while the copy is
 * read. A source copy newer than the requested version is STALE_VERSION: the healer's view of
 * the chunk is out of date.
 */
final class ChunkReplicator {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkReplicator.class);
  static final int PIECE_BYTES = 4 << 20;

  private final ChunkStore store;
  private final Executor executor;
  private final DownstreamClients downstream;

  ChunkReplicator(ChunkStore store, Executor executor, DownstreamClients downstream) {
    this.store = store;
    this.executor = executor;
    this.downstream = downstream;
  }

  /** Never fails: every outcome is a response (OK carries the version and length copied). */
  CompletableFuture<DataResponse> replicate(ReplicateChunkOp op) {
    ChunkId chunk = op.getChunk();
    String source = op.getSource();
    // Forced: a source that lost the stamp in a crash would take a stale writer's write again.
    DataRequest stamp = DataRequest.newBuilder().setWrite(WriteChunkOp.newBuilder()
        .setChunk(chunk).setVersion(op.getVersion()).setSync(true)).build();
    DataRequest info = DataRequest.newBuilder()
        .setChunkInfo(ChunkInfoOp.newBuilder().setChunk(chunk)).build();
    return downstream.send(source, stamp)
        .thenCompose(stamped -> {
          if (stamped.getStatus() == Status.STALE_VERSION) {
            throw new Failure(new StaleVersionException(chunk.getInode(), chunk.getIndex(),
                op.getVersion(), stamped.getVersion()));
          }
          checkAnswer(source, stamped);
          return downstream.send(source, info);
        })
        .thenCompose(sourceInfo -> {
          checkAnswer(source, sourceInfo);
          if (Long.compareUnsigned(sourceInfo.getVersion(), op.getVersion()) > 0) {
            throw new Failure(new StaleVersionException(chunk.getInode(), chunk.getIndex(),
                op.getVersion(), sourceInfo.getVersion()));
          }
          long length = sourceInfo.getLength();
          return onExecutor(() -> store.stage(chunk.getInode(), chunk.getIndex()))
              .thenCompose(staged -> copy(staged, op, length, 0)
                  .thenCompose(v -> onExecutor(() -> {
                    if (staged.length() != length) {
                      throw new IOException("copied " + staged.length() + " bytes of chunk "
                          + key(chunk) + ", source has " + length);
                    }
                    staged.install(op.getVersion());
                    return DataResponse.newBuilder().setStatus(Status.OK)
                        .setVersion(op.getVersion()).setLength(length).build();
                  }))
                  // Answer only once the staged copy is gone: a caller that sees the
                  // failure must not find half a copy on disk.
                  .exceptionallyCompose(failure -> discard(staged)
                      .thenCompose(v -> CompletableFuture.failedFuture(failure))));
        })
        .handle((response, failure) -> {
          if (failure == null) {
            LOG.info("replicated chunk {} v{} from {} ({} bytes)", key(chunk), op.getVersion(),
                source, response.getLength());
            return response;
          }
          DataResponse error = DataFailures.response(unwrap(failure));
          LOG.warn("replicating chunk {} v{} from {} failed: {}", key(chunk), op.getVersion(),
              source, error.getError());
          return error;
        });
  }

  /** Reads [offset, length) from the source piece by piece into {@code staged}. */
  private CompletableFuture<Void> copy(StagedChunk staged, ReplicateChunkOp op, long length,
      long offset) {
    if (offset >= length) {
      return CompletableFuture.completedFuture(null);
    }
    int n = (int) Math.min(PIECE_BYTES, length - offset);
    DataRequest read = DataRequest.newBuilder().setRead(ReadChunkOp.newBuilder()
        .setChunk(op.getChunk()).setOffset(offset).setLength(n).setVersion(op.getVersion()))
        .build();
    return downstream.send(op.getSource(), read).thenCompose(piece -> {
      checkAnswer(op.getSource(), piece);
      if (piece.getData().size() != n) {
        throw new Failure(new IOException("source " + op.getSource() + " returned "
            + piece.getData().size() + " of " + n + " bytes at offset " + offset + " of chunk "
            + key(op.getChunk()) + ": its copy changed during replication"));
      }
      return onExecutor(() -> {
        staged.write(offset, piece.getData().asReadOnlyByteBuffer());
        return null;
      }).thenCompose(v -> copy(staged, op, length, offset + n));
    });
  }

  private static void checkAnswer(String source, DataResponse response) {
    if (response.getStatus() != Status.OK) {
      throw new Failure(new RpcException(response.getStatus(), "source " + source + ": "
          + response.getError()));
    }
  }

  private CompletableFuture<Void> discard(StagedChunk staged) {
    try {
      return CompletableFuture.runAsync(staged::close, executor);
    } catch (RejectedExecutionException e) {
      staged.close(); // shutting down: two small deletes on this thread beat a leak
      return CompletableFuture.completedFuture(null);
    }
  }

  private interface DiskStep<T> {
    T run() throws IOException;
  }

  private <T> CompletableFuture<T> onExecutor(DiskStep<T> step) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try {
          result.complete(step.run());
        } catch (Throwable t) {
          result.completeExceptionally(t);
        }
      });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new RpcException(Status.UNAVAILABLE,
          "data plane is overloaded or closed"));
    }
    return result;
  }

  private static Throwable unwrap(Throwable t) {
    while (t.getCause() != null && (t instanceof Failure
        || t instanceof java.util.concurrent.CompletionException)) {
      t = t.getCause();
    }
    return t;
  }

  private static String key(ChunkId chunk) {
    return new ChunkKey(chunk.getInode(), chunk.getIndex()).toString();
  }

  /** Carries a checked failure out of a future's stage. */
  private static final class Failure extends RuntimeException {
    Failure(Exception cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }
}
