package io.shoalfs.client;

import io.shoalfs.fs.Relatime;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.rpc.RpcException;
import java.util.Map;
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
 * One note per inode is on its way at a time; meanwhile this mount shows the atime it will set
 * ({@link #shown}), so a stat after a read sees it as before. Bounded: when the queue is full
 * the reading thread sends its note itself.
 */
final class AccessNotes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AccessNotes.class);
  private static final int QUEUE = 1024;

  private final MetaClient meta;
  private final ThreadPoolExecutor sender;
  /** Inodes with a note on its way, and the time of the read it notes. */
  private final Map<Long, Long> onTheirWay = new ConcurrentHashMap<>();

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
    if (onTheirWay.putIfAbsent(inode, readAt) != null) {
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
      if (!Relatime.isDue(meta.cachedAttr(caller, inode), readAt)) {
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

  /**
   * {@code attr} as this mount shows it while a note is on its way: with the atime the note
   * will set (the answer to the note then updates the attribute cache).
   */
  Attr shown(Attr attr) {
    Long readAt = onTheirWay.get(attr.getInode());
    return readAt == null || !Relatime.isDue(attr, readAt) ? attr
        : attr.toBuilder().setAtimeNs(readAt).build();
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
