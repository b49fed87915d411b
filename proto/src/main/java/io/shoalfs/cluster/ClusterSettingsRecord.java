package io.shoalfs.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.shoalfs.proto.ClusterSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's settings in etcd ({@link MemberKeys#SETTINGS}): recorded once, by the first
 * server to start, and read by every later server and by every mount.
 *
 * <p>Why they are fixed: the chunk size decides which chunk holds a file offset, the block size
 * where each checksum starts, for every byte already stored; a server or a mount with another
 * value would read and write the wrong bytes. The replication factor is fixed with them so
 * that placement, the healer and {@code shoal status} agree on every server.
 *
 * <p>Recording is a put-if-absent transaction (the key's version is 0), so two servers forming
 * the cluster at the same moment record one set and both get it back. The key has no lease:
 * the settings outlive every process.
 *
 * <p>Calls retry with backoff until their deadline, as a server started together with etcd
 * must wait for it. The etcd client belongs to the caller.
 */
public final class ClusterSettingsRecord {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterSettingsRecord.class);
  /** How long a start waits for etcd to answer, as the member directory does. */
  public static final Duration DEFAULT_DEADLINE = MemberDirectory.START_TIMEOUT;
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration MIN_RETRY = Duration.ofMillis(100);
  private static final Duration MAX_RETRY = Duration.ofSeconds(2);

  private final Client etcd;
  private final Duration deadline;

  /** @param deadline how long each call keeps retrying while etcd does not answer */
  public ClusterSettingsRecord(Client etcd, Duration deadline) {
    this.etcd = etcd;
    this.deadline = deadline;
  }

  /**
   * The settings as recorded, and whether this call recorded them.
   *
   * @param formedNow true if the record did not exist and this call wrote {@code proposed}
   */
  public record Formation(ClusterSettings settings, boolean formedNow) {}

  /** The recorded settings; empty if no server has formed the cluster yet. */
  public Optional<ClusterSettings> read() throws IOException, InterruptedException {
    return retrying("reading the cluster settings", () -> etcd.getKVClient()
        .get(MemberKeys.settings())
        .thenApply(get -> parse(get.getKvs())));
  }

  /**
   * Records {@code proposed} unless settings are recorded already; either way answers what is
   * recorded now. The caller checks {@code proposed} first: once recorded it is never changed.
   */
  public Formation formOrRead(ClusterSettings proposed) throws IOException, InterruptedException {
    ByteSequence key = MemberKeys.settings();
    Formation formation = retrying("recording the cluster settings", () -> etcd.getKVClient()
        .txn()
        .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(Op.put(key, ByteSequence.from(proposed.toByteArray()), PutOption.DEFAULT))
        .Else(Op.get(key, GetOption.DEFAULT))
        .commit()
        .thenApply(r -> formation(r, proposed)));
    if (formation.formedNow()) {
      LOG.info("formed the cluster with chunk size {}, block size {}, replication {}",
          proposed.getChunkSize(), proposed.getBlockSize(), proposed.getReplication());
    }
    return formation;
  }

  private static Formation formation(TxnResponse r, ClusterSettings proposed) {
    if (r.isSucceeded()) {
      return new Formation(proposed, true);
    }
    Optional<ClusterSettings> recorded = r.getGetResponses().isEmpty() ? Optional.empty()
        : parse(r.getGetResponses().get(0).getKvs());
    // The key existed when compared, and is never deleted: absent here is a broken etcd.
    return new Formation(recorded.orElseThrow(() -> new IllegalStateException(
        MemberKeys.SETTINGS + " exists but could not be read back")), false);
  }

  private static Optional<ClusterSettings> parse(List<KeyValue> kvs) {
    if (kvs.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(ClusterSettings.parseFrom(kvs.get(0).getValue().getBytes()));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the cluster settings in etcd (" + MemberKeys.SETTINGS
          + ") are not a ClusterSettings record: " + e.getMessage(), e);
    }
  }

  @FunctionalInterface
  private interface Call<T> {
    CompletableFuture<T> start();
  }

  private <T> T retrying(String what, Call<T> call) throws IOException, InterruptedException {
    long end = System.nanoTime() + deadline.toNanos();
    Backoff backoff = new Backoff(MIN_RETRY, MAX_RETRY);
    while (true) {
      CompletableFuture<T> f = call.start();
      Exception failure;
      try {
        return f.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IllegalStateException bad) {
          throw bad; // a record etcd answered but nobody can use: retrying will not fix it
        }
        failure = e;
      } catch (TimeoutException e) {
        f.cancel(true);
        failure = e;
      }
      Duration delay = backoff.next();
      if (System.nanoTime() + delay.toNanos() - end > 0) {
        throw new IOException(what + " in etcd failed for " + deadline.toSeconds() + " s: "
            + rootMessage(failure), failure);
      }
      LOG.warn("{} in etcd failed, retrying in {} ms: {}", what, delay.toMillis(),
          rootMessage(failure));
      TimeUnit.MILLISECONDS.sleep(delay.toMillis());
    }
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.toString();
  }
}
