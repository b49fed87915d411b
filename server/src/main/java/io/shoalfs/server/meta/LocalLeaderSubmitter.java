package io.shoalfs.server.meta;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

/**
 * Hands requests straight to this member's own Raft server while it leads the group.
 *
 * <p>Why: through a RaftClient, a request to the leader in this very process still goes out
 * over loopback TCP and back, and the Ratis 3.1.3 Netty server blocks one of its few event
 * loop threads per request until the entry is applied. Profiles of metadata-heavy runs showed
 * the leader's CPU spread over those hops and wake-ups. Submitted here, a request costs no
 * socket and no blocked thread, and any number may be in flight.
 *
 * <p>Any answer but success or a state machine failure (not leader any more, leader not ready,
 * closed) is for the caller to retry through the RaftClient path, which follows redirects and
 * waits out elections. Resending a mutation is safe: the state machine's reply table answers
 * a (client id, seq) it has already applied.
 */
final class LocalLeaderSubmitter {
  private final RaftServer server;
  private final RaftGroupId groupId;
  // Requests from this path carry their own Ratis client id, so their call ids never meet a
  // RaftClient's in the server's retry cache.
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final LongAdder submitted = new LongAdder();

  LocalLeaderSubmitter(RaftServer server, RaftGroupId groupId) {
    this.server = server;
    this.groupId = groupId;
  }

  /** Whether this member leads and has committed an entry of its term (it can answer now). */
  boolean leadsNow() {
    try {
      DivisionInfo info = server.getDivision(groupId).getInfo();
      return info.isLeader() && info.isLeaderReady();
    } catch (IOException e) {
      return false; // closing, or the group is gone: the client path will say what is wrong
    }
  }

  /**
   * Submits {@code message} to this member's server. The future completes with Ratis's reply,
   * or exceptionally if the server refused the request outright.
   */
  CompletableFuture<RaftClientReply> submit(Message message, boolean read) {
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(server.getId())
        .setGroupId(groupId)
        .setCallId(callIds.incrementAndGet())
        .setMessage(message)
        .setType(read ? RaftClientRequest.readRequestType() : RaftClientRequest.writeRequestType())
        .build();
    submitted.increment();
    try {
      return server.submitClientRequestAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Whether {@code reply} is the group's answer, rather than a reason to retry elsewhere. */
  static boolean isAnswer(RaftClientReply reply) {
    return reply.isSuccess() || reply.getStateMachineException() != null;
  }

  /** Requests submitted through this path so far; for tests. */
  long submitted() {
    return submitted.sum();
  }
}
