package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import java.io.IOException;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * Sends {@link MetaRequest}s to the leader of the metadata group: mutations through the log,
 * reads as read-only requests (linearizable: the servers run with the LINEARIZABLE read
 * option), with a bounded retry policy.
 *
 * <p>Why Ratis's blocking API on our own threads and not {@code client.async()}: in Ratis
 * 3.1.3 the ordered async path does not retry "leader not ready" (it hands the exception
 * back), and after a failed call its sliding window can hold later calls forever. The blocking
 * path redirects on "not leader", waits out "not ready", and retries with the same call id,
 * so the server's retry cache never applies a retried request twice.
 */
final class MetaGroupClient implements AutoCloseable {

  private static final int THREADS = 16;

  private final RaftGroup group;
  private final RaftProperties properties;
  private final int attempts;
  private final Duration retrySleep;
  private volatile RaftClient client;
  private final ExecutorService executor;

  MetaGroupClient(RaftGroup group, RaftProperties properties, int attempts, Duration retrySleep) {
    this.group = group;
    this.properties = properties;
    this.attempts = attempts;
    this.retrySleep = retrySleep;
    this.client = newClient();
    this.executor = Executors.newFixedThreadPool(THREADS, daemonThreads());
  }

  private RaftClient newClient() {
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(properties)
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts,
            TimeDuration.valueOf(retrySleep.toMillis(), TimeUnit.MILLISECONDS)))
        .build();
  }

  /**
   * A Ratis client that ran out of retries (no leader for a while) closes itself for good;
   * the group may be back by now, so the next call gets a fresh client.
   */
  private RaftClient clientAfter(RaftClient failed) {
    synchronized (this) {
      if (client == failed) {
        try {
          failed.close();
        } catch (IOException ignored) {
          // it is closed already; that is why it is being replaced
        }
        client = newClient();
      }
      return client;
    }
  }

  /**
   * Completes with the group's answer, or exceptionally when the group could not be reached
   * within the retry policy.
   */
  CompletableFuture<MetaResponse> submit(MetaRequest request) {
    Message message = Message.valueOf(ByteString.copyFrom(request.toByteArray()));
    boolean read = Namespace.isReadOnly(request);
    return CompletableFuture.supplyAsync(() -> {
      RaftClient c = client;
      try {
        return send(c, message, read);
      } catch (AlreadyClosedException e) {
        try {
          return send(clientAfter(c), message, read);
        } catch (IOException again) {
          throw new CompletionException(again);
        }
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, executor);
  }

  private static MetaResponse send(RaftClient c, Message message, boolean read) throws IOException {
    RaftClientReply reply = read ? c.io().sendReadOnly(message) : c.io().send(message);
    if (!reply.isSuccess() && reply.getException() instanceof AlreadyClosedException closed) {
      throw closed;
    }
    return toResponse(reply);
  }

  /** Asks {@code member} to snapshot now. */
  void snapshot(RaftPeerId member, Duration timeout) throws IOException {
    // Creation gap 1: snapshot even if few entries arrived since the last one.
    RaftClientReply reply = client.getSnapshotManagementApi(member).create(1, timeout.toMillis());
    if (!reply.isSuccess()) {
      throw new IOException("snapshot of " + member + " failed", reply.getException());
    }
  }

  private static MetaResponse toResponse(RaftClientReply reply) {
    if (!reply.isSuccess()) {
      if (reply.getStateMachineException() != null) {
        return Replies.fail(Status.INTERNAL, String.valueOf(reply.getStateMachineException().getMessage()));
      }
      throw new CompletionException(reply.getException());
    }
    try {
      return MetaResponse.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      return Replies.fail(Status.INTERNAL, "reply is not a MetaResponse");
    }
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "shoal-meta-client-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() throws IOException {
    executor.shutdownNow();
    client.close();
  }
}
