package io.shoalfs.server.data;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.LinkChunkOp;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.server.DataPlaneOrchestrator.StorageStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Executes one DataRequest against the chunk store, on the calling (blocking) thread. */
final class DataRequestHandler {
  private static final Logger LOG = LoggerFactory.getLogger(DataRequestHandler.class);
  private static final DataResponse OK = DataResponse.newBuilder().setStatus(Status.OK).build();

  private final ChunkStore store;
  private final VolumeUsage volume;

  DataRequestHandler(ChunkStore store, VolumeUsage volume) {
    this.store = store;
    this.volume = volume;
  }

  /** Never throws: every failure is a response with a status. */
  DataResponse handle(DataRequest request) {
    try {
      return execute(request);
    } catch (Throwable t) {
      DataResponse failure = DataFailures.response(t);
      if (failure.getStatus() == Status.CORRUPT) {
        LOG.error("{}", t.getMessage());
      } else if (failure.getStatus() == Status.INTERNAL) {
        LOG.warn("data request {} failed", request.getOpCase(), t);
      } else {
        LOG.debug("data request {} failed: {}", request.getOpCase(), t.toString());
      }
      return failure;
    }
  }

  private DataResponse execute(DataRequest request) throws IOException {
    switch (request.getOpCase()) {
      case WRITE: {
        WriteChunkOp op = request.getWrite();
        // The local part only: forwarding down the chain is LocalDataPlane's (it is async).
        store.write(op.getChunk().getInode(), op.getChunk().getIndex(), op.getOffset(),
            op.getData().asReadOnlyByteBuffer(), op.getSync(), op.getVersion());
        return OK;
      }
      case READ:
        return read(request.getRead());
      case TRUNCATE:
        store.truncateFile(request.getTruncate().getInode(), request.getTruncate().getSize());
        return OK;
      case DELETE:
        store.deleteFile(request.getDelete().getInode());
        return OK;
      case SYNC:
        store.syncFile(request.getSync().getInode());
        return OK;
      case STAT_FS: {
        StorageStats stats = volume.stats();
        return DataResponse.newBuilder()
            .setStatus(Status.OK)
            .setTotalBytes(stats.totalBytes())
            .setFreeBytes(stats.freeBytes())
            .setUsedBytes(stats.usedBytes())
            .build();
      }
      case DELETE_CHUNK:
        store.deleteChunk(request.getDeleteChunk().getChunk().getInode(),
            request.getDeleteChunk().getChunk().getIndex());
        return OK;
      case CHUNK_INFO: {
        ChunkId chunk = request.getChunkInfo().getChunk();
        StoredChunk info = store.info(chunk.getInode(), chunk.getIndex());
        DataResponse.Builder response = DataResponse.newBuilder().setStatus(Status.OK);
        if (info != null) {
          response.setVersion(info.version()).setLength(info.length());
        }
        return response.build();
      }
      case LINK_CHUNK:
        return link(request.getLinkChunk());
      case REPLICATE: // needs the network: LocalDataPlane runs it through ChunkReplicator
      case OP_NOT_SET:
      default:
        return DataResponse.newBuilder()
            .setStatus(Status.BAD_REQUEST)
            .setError("data request without a known op")
            .build();
    }
  }

  private DataResponse link(LinkChunkOp op) throws IOException {
    ChunkId from = op.getSource();
    ChunkId to = op.getTarget();
    ChunkStore.Linked linked = store.link(from.getInode(), from.getIndex(), to.getInode(),
        to.getIndex(), op.getVersion());
    Status status = switch (linked) {
      case MADE, ALREADY -> Status.OK;
      case NO_COPY -> Status.ENOENT;
      case OTHER_VERSION -> Status.STALE_VERSION;
      case TARGET_EXISTS -> Status.EEXIST;
    };
    return status == Status.OK ? OK : DataResponse.newBuilder().setStatus(status)
        .setError("link of chunk " + from.getInode() + "/" + from.getIndex() + " at version "
            + op.getVersion() + " to " + to.getInode() + "/" + to.getIndex() + ": " + linked)
        .build();
  }

  private DataResponse read(ReadChunkOp op) throws IOException {
    ByteBuffer bytes;
    try {
      bytes = store.read(op.getChunk().getInode(), op.getChunk().getIndex(), op.getOffset(),
          op.getLength(), op.getVersion());
    } catch (NoSuchFileException deletedMeanwhile) {
      bytes = ByteBuffer.allocate(0);
    }
    return DataResponse.newBuilder().setStatus(Status.OK).setData(wrap(bytes)).build();
  }

  /** The store hands out a fresh buffer per read, so wrapping it without a copy is safe. */
  private static ByteString wrap(ByteBuffer bytes) {
    if (bytes.hasArray() && !bytes.isReadOnly()) {
      return UnsafeByteOperations.unsafeWrap(bytes.array(),
          bytes.arrayOffset() + bytes.position(), bytes.remaining());
    }
    return ByteString.copyFrom(bytes);
  }
}
