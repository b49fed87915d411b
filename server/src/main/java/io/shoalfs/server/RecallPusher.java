package io.shoalfs.server;

import io.shoalfs.proto.CapabilityRecall;
import io.shoalfs.proto.Envelope;
import io.shoalfs.rpc.ClientConnections;
import io.shoalfs.server.meta.CapabilityRecallListener;
import java.util.Objects;

/**
 * Tells the holder's mount that its capability on a directory is recalled: a CapabilityRecall
 * pushed (call_id 0) over the connection the mount last sent this server a metadata request
 * on. Every member applies the recall and every member pushes, so the mount hears it from
 * whichever servers it talks to; one that has no connection of the mount does nothing (the
 * mount's keep-alive answer lists the recall too).
 */
public final class RecallPusher implements CapabilityRecallListener {

  private final ClientConnections mounts;

  public RecallPusher(ClientConnections mounts) {
    this.mounts = Objects.requireNonNull(mounts, "mounts");
  }

  @Override
  public void recalled(long holder, long dir) {
    mounts.push(holder, Envelope.newBuilder()
        .setCapRecall(CapabilityRecall.newBuilder().setClientId(holder).addDirs(dir))
        .build());
  }
}
