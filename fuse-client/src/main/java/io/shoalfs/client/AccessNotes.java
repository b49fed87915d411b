package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.rpc.RpcException;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * atime for FUSE reads (the kernel leaves it to the file system): the first read through a
 * handle applies Linux's relatime rule, and the update it is due goes to the metadata service
 * from a thread of its own instead of holding up the read. Every file read right after it was
 * written is due one, and that was a log entry on the read's path: in a tree read back after
 * a copy, one per file.
 *
 * <p>The note carries the time of the read; the service drops a note older than the inode's
 * last change, so a late one never undoes times set after the read (NamespaceWrites.accessed).
 * One note per inode is on its way at a time. Bounded: when the queue is full the reading
 * thread sends its note itself.
 */
final class AccessNotes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AccessNotes.class);
  static final long RELATIME_MAX_AGE_NS = 24L * 3600 * FuseTimes.NANOS_PER_SECOND;
  private static final int QUEUE = 1024;

  private final MetaClient meta;
  private final ThreadPoolExecutor sender;
  private final Set<Long> onTheirWay = ConcurrentHashMap.newKeySet();

  AccessNotes(MetaClient meta) {
    this.meta = meta;
    this.sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(QUEUE), r -> {
          Thread t = new Thread(r, "access-notes");
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
  }

  /** {@code caller} started reading {@code inode} through a handle, now. */
  void readStarted(Caller caller, long inode) {
    long readAt = FuseTimes.nowNs();
    if (!onTheirWay.add(inode)) {
      return; // the note on its way covers this read too
    }
    try {
      sender.execute(() -> {
        try {
          send(caller, inode, readAt);
        } finally {
          onTheirWay.remove(inode);
        }
      });
    } catch (RejectedExecutionException closed) {
      onTheirWay.remove(inode);
    }
  }

  private void send(Caller caller, long inode, long readAt) {
    try {
      Attr attr = meta.cachedAttr(caller, inode);
      long atime = attr.getAtimeNs();
      if (atime > attr.getMtimeNs() && atime > attr.getCtimeNs()
          && readAt - atime < RELATIME_MAX_AGE_NS) {
        return;
      }
      meta.call(caller, MetaRequest.newBuilder().setSetAttr(SetAttrOp.newBuilder()
          .setInode(inode)
          .setValid(SetAttrBits.ACCESSED)
          .setNowNs(readAt)));
    } catch (RpcException e) {
      // Advice, not data: a file removed meanwhile, or a service away, costs one atime.
      LOG.debug("atime of inode {} not updated: {}", inode, e.getMessage());
    }
  }

  /** Sends nothing more; notes not sent yet are dropped. */
  @Override
  public void close() {
    sender.shutdownNow();
  }

  /** Whether notes are still on their way; for tests. */
  boolean busy() {
    return !onTheirWay.isEmpty();
  }
}
