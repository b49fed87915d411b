package io.shoalfs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.channel.embedded.EmbeddedChannel;
import io.shoalfs.proto.CapabilityRecall;
import io.shoalfs.proto.Envelope;
import io.shoalfs.rpc.ClientConnections;
import org.junit.jupiter.api.Test;

/** A recall applied on this member reaches the holder's mount, if this member has its connection. */
class RecallPusherTest {

  @Test
  void theHoldersConnectionGetsTheRecallUnasked() {
    ClientConnections mounts = new ClientConnections();
    EmbeddedChannel holder = new EmbeddedChannel();
    EmbeddedChannel other = new EmbeddedChannel();
    mounts.seen(7, holder);
    mounts.seen(8, other);
    RecallPusher pusher = new RecallPusher(mounts);

    pusher.recalled(7, 42);
    Envelope pushed = holder.readOutbound();
    assertEquals(0, pushed.getCallId());
    assertEquals(CapabilityRecall.newBuilder().setClientId(7).addDirs(42).build(),
        pushed.getCapRecall());
    assertNull(other.readOutbound(), "only the holder's mount is told");

    pusher.recalled(9, 42); // a mount connected elsewhere: nothing to do here, and no failure
    holder.close();
    pusher.recalled(7, 43);
    assertNull(holder.readOutbound(), "a closed connection gets nothing");
  }
}
