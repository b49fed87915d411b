package io.shoalfs.s3;

import com.google.protobuf.ByteString;
import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.Attr;
import io.shoalfs.rpc.RpcException;
import java.util.List;

/**
 * Puts a multipart upload's parts one after the other into a staged file. A part that starts
 * at a chunk boundary of the object and is a whole number of chunks long has its chunks moved
 * into the object ({@link ClientCore#appendByMovingChunks}): none of its bytes pass through the
 * gateway. Every other part, and an aligned one whose chunks could not be moved (a replica
 * down, the healer copying one of them), is copied through the gateway.
 */
final class PartAssembler {

  /** The assembled file, and how its bytes got there. */
  record Assembled(Attr attr, int movedParts, long movedChunks, long copiedBytes) {}

  private final ClientCore core;

  PartAssembler(ClientCore core) {
    this.core = core;
  }

  /** Appends {@code parts}, in order, to the empty file {@code target} (staged without chunks). */
  Assembled assemble(long target, List<Attr> parts) throws RpcException {
    long chunk = core.chunkSize();
    ObjectWriter writer = new ObjectWriter(core, target);
    int movedParts = 0;
    long moved = 0;
    long copied = 0;
    for (Attr part : parts) {
      long at = writer.size();
      if (at % chunk == 0 && part.getSize() > 0 && part.getSize() % chunk == 0) {
        writer.settle();
        if (core.appendByMovingChunks(part.getInode(), part.getSize(), target, at)) {
          writer.skip(part.getSize());
          movedParts++;
          moved += part.getSize() / chunk;
          continue;
        }
      }
      core.forgetLocations(part.getInode());
      RangeReader reader = new RangeReader(core, part.getInode(), 0, part.getSize());
      for (ByteString piece = reader.next(); piece != null; piece = reader.next()) {
        writer.append(piece);
      }
      copied += part.getSize();
    }
    return new Assembled(writer.finish().attr(), movedParts, moved, copied);
  }
}
