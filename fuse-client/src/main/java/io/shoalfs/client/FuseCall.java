package io.shoalfs.client;

import io.shoalfs.rpc.Errno;
import io.shoalfs.rpc.RpcException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one wrapper every FUSE callback goes through (Alluxio {@code AlluxioFuseUtils.call}): it
 * times the call, counts failures, logs at debug and turns every failure into a negative errno.
 * Native code must never see a Java exception: a throwable escaping into libfuse's thread would
 * take the whole mount down.
 */
public final class FuseCall {
  private static final Logger LOG = LoggerFactory.getLogger(FuseCall.class);

  /** Counters of one callback name. */
  public record OpStats(long calls, long failures, long totalNanos) {}

  private static final class Counters {
    final LongAdder calls = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder nanos = new LongAdder();
  }

  private final Map<String, Counters> counters = new ConcurrentHashMap<>();

  /**
   * Runs {@code body} and returns what it returns (0 or a byte count), or {@code -errno} when it
   * failed: {@code -Errno.of(status)} for an {@link RpcException} (also when wrapped by a future),
   * {@code -EIO} for any other throwable.
   */
  public int run(String op, String path, Callable<Integer> body) {
    long start = System.nanoTime();
    int result;
    try {
      result = body.call();
    } catch (Throwable t) {
      result = errnoOf(op, path, t);
    }
    long elapsed = System.nanoTime() - start;
    Counters c = counters.computeIfAbsent(op, k -> new Counters());
    c.calls.increment();
    c.nanos.add(elapsed);
    if (result < 0) {
      c.failures.increment();
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug("{}({}) = {} in {} us", op, path, result, elapsed / 1000);
    }
    return result;
  }

  /** A snapshot of the counters, by callback name. */
  public Map<String, OpStats> stats() {
    Map<String, OpStats> out = new TreeMap<>();
    counters.forEach((op, c) ->
        out.put(op, new OpStats(c.calls.sum(), c.failures.sum(), c.nanos.sum())));
    return out;
  }

  private static int errnoOf(String op, String path, Throwable t) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof RpcException rpc) {
      int errno = rpc.errno();
      // An OK status carried by an exception is a bug somewhere; never report success for it.
      return errno == 0 ? -Errno.EIO : -errno;
    }
    // Not a status from the cluster: a bug in this client. Loud, because EIO hides it otherwise.
    LOG.warn("{}({}) failed unexpectedly", op, path, t);
    return -Errno.EIO;
  }
}
