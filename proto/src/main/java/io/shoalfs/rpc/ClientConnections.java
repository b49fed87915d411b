package io.shoalfs.rpc;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.shoalfs.proto.Envelope;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections mounts made to this server, by the client id (session) their metadata
 * requests carry, so that the server can send a mount something it did not ask for: a
 * capability recall. The connection a client id came on last wins; a closed one is
 * forgotten. Thread-safe.
 *
 * <p>What is pushed has call_id 0, which no call uses (clients number theirs from 1), so a
 * client can never take a push for the answer to one of its calls.
 */
public final class ClientConnections {
  private static final Logger LOG = LoggerFactory.getLogger(ClientConnections.class);

  private final ConcurrentHashMap<Long, Channel> byClient = new ConcurrentHashMap<>();

  /**
   * Client {@code clientId} sent a metadata request on {@code channel} (the RPC server calls
   * this for every one; client id 0, the servers' own, is not a mount's).
   */
  public void seen(long clientId, Channel channel) {
    if (clientId == 0) {
      return;
    }
    Channel previous = byClient.put(clientId, channel);
    if (previous != channel) {
      // Once per change of connection, not per request: the listener lives as long as the
      // channel, and a closed channel runs it at once.
      channel.closeFuture().addListener(f -> byClient.remove(clientId, channel));
    }
  }

  /**
   * Sends {@code push} (its call_id set to 0) to the connection {@code clientId} last used, if
   * it is open. Returns whether there was one to write to; the write itself may still fail
   * (logged), and nothing waits for it.
   */
  public boolean push(long clientId, Envelope push) {
    Channel channel = byClient.get(clientId);
    if (channel == null || !channel.isActive() || channel.eventLoop().isShuttingDown()) {
      return false;
    }
    Envelope unasked = push.toBuilder().setCallId(0).build();
    // Listener first, write second, as ServerConnectionHandler.reply does: this thread is not
    // the channel's event loop.
    ChannelPromise sent = channel.newPromise();
    sent.addListener(f -> {
      if (!f.isSuccess()) {
        LOG.debug("push to client {} on {} not sent: {}", Long.toHexString(clientId),
            channel.remoteAddress(), String.valueOf(f.cause()));
      }
    });
    channel.writeAndFlush(unasked, sent);
    return true;
  }

  /** Whether a connection of {@code clientId} is known; for tests. */
  boolean knows(long clientId) {
    return byClient.containsKey(clientId);
  }
}
