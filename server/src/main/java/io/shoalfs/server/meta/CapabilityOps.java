package io.shoalfs.server.meta;

import io.shoalfs.proto.AcquireCapabilityOp;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.CapabilityRecord;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.RecallCapabilityOp;
import io.shoalfs.proto.ReleaseCapabilityOp;
import io.shoalfs.proto.Status;

/**
 * The capability mutations (AcquireCapabilityOp, ReleaseCapabilityOp, RecallCapabilityOp):
 * who may take a directory's capability, who may give it back, and the recall's mark on it.
 * The store's side of it is {@link Capabilities}; what a capability keeps others from is
 * {@link CapabilityGate}'s.
 */
final class CapabilityOps {

  private final InodeReader store;
  private final Capabilities capabilities;
  private final KvBatch batch;

  CapabilityOps(KvBatch batch) {
    this.store = new InodeReader(batch);
    this.capabilities = new Capabilities(batch);
    this.batch = batch;
  }

  /**
   * The capability on op.dir for the session of {@code client}, exclusive or (op.shared) shared:
   * CAP_HELD while another open session's holding is in the way (see AcquireCapabilityOp). A
   * holder asking again keeps its record as it is, recalled or not.
   */
  MetaResponse acquire(long client, AcquireCapabilityOp op) {
    if (client == 0) {
      return Replies.fail(Status.EINVAL, "capabilities are held by sessions only");
    }
    Attr dir = store.attr(op.getDir());
    if (dir == null) {
      return Replies.fail(Status.ENOENT, "no inode " + op.getDir());
    }
    if (dir.getType() != FileType.DIRECTORY) {
      return Replies.fail(Status.ENOTDIR, "inode " + op.getDir() + " is not a directory");
    }
    CapabilityGate gate = CapabilityGate.of(client, batch);
    if (op.getShared()) {
      MetaResponse held = gate.refusal(op.getDir());
      if (held != null) {
        return held;
      }
      capabilities.grantShared(client, op.getDir(), batch);
      return granted(dir);
    }
    MetaResponse held = gate.changeRefusal(op.getDir());
    if (held != null) {
      return held;
    }
    CapabilityRecord record = capabilities.get(op.getDir());
    if (record == null || record.getHolder() != client) {
      capabilities.grant(client, op.getDir(), batch); // none, its own shared one, or stale ones
    }
    return granted(dir);
  }

  /** A directory created with take_capability: nobody else can know it yet. */
  void grantNew(long client, long dir) {
    capabilities.grant(client, dir, batch);
  }

  /** Drops those of op.dirs the session of {@code client} holds; the rest are not its to drop. */
  MetaResponse release(long client, ReleaseCapabilityOp op) {
    for (long dir : op.getDirsList()) {
      capabilities.release(client, dir, batch);
    }
    return Replies.ok();
  }

  /** Marks op.dir's holdings recalled; a directory nobody holds is already given back. */
  MetaResponse recall(long client, RecallCapabilityOp op) {
    if (client != 0) {
      return Replies.fail(Status.EPERM, "capabilities are recalled by the servers only");
    }
    capabilities.recall(op.getDir(), batch);
    return Replies.ok();
  }

  /** A keep-alive's answer with the recalled capabilities of the session of {@code client}. */
  MetaResponse withRecalledDirs(MetaResponse keptAlive, long client) {
    if (keptAlive.getStatus() != Status.OK) {
      return keptAlive;
    }
    return keptAlive.toBuilder().addAllRecalledDirs(capabilities.recalledOf(client)).build();
  }

  static MetaResponse granted(Attr dir) {
    return MetaResponse.newBuilder()
        .setStatus(Status.OK)
        .setAttr(dir)
        .setCapabilityGranted(true)
        .build();
  }
}
