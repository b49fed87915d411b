package io.shoalfs.client;

import io.shoalfs.fs.Relatime;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.SetAttrOp;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * atime for FUSE reads (the kernel leaves it to the file system): the first read through a
 * handle applies Linux's relatime rule, and the update it is due goes to the metadata service
 * from a thread of its own instead of holding up the read. Every file read right after it was
 * written is due one, and that was a log entry on the read's path: in a tree read back after
 * a copy, one per file.
 *
 * <p>Notes travel in the mount's journal: the sender takes every note that is waiting and sends
 * them as one request, one log entry (a tree read back after a copy was one entry per file;
 * now it is one per round trip). The note carries the time of the read; the service drops a
 * note older than the inode's last change, so a late one never undoes times set after the read
 * (NamespaceWrites.accessed). One note per inode is on its way at a time; meanwhile this mount
 * shows the atime it will set ({@link #shown}), so a stat after a read sees it as before.
 * Bounded: when the queue is full the reading thread sends its note itself.
 */
final class AccessNotes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AccessNotes.class);
  private static final int QUEUE = 1024;
  /** Notes per journal: one log entry stays small. */
  static final int PER_JOURNAL = 256;

  private record Note(Caller caller, long inode, long readAt) {}

  private final MetaClient meta;
  private final BlockingQueue<Note> waiting = new ArrayBlockingQueue<>(QUEUE);
  private final Thread sender;
  private volatile boolean closed;
  /** Inodes with a note on its way, and the time of the read it notes. */
  private final Map<Long, Long> onTheirWay = new ConcurrentHashMap<>();

  AccessNotes(MetaClient meta) {
    this.meta = meta;
    this.sender = new Thread(this::sendWhileOpen, "access-notes");
    sender.setDaemon(true);
    sender.start();
  }

  /** {@code caller} started reading {@code inode} through a handle, now. */
  void readStarted(Caller caller, long inode) {
    long readAt = NanoTimes.nowNs();
    if (closed || onTheirWay.putIfAbsent(inode, readAt) != null) {
      return; // the note on its way covers this read too
    }
    Note note = new Note(caller, inode, readAt);
    if (!waiting.offer(note)) {
      send(List.of(note)); // the queue is full: this reader pays for its own note
    }
  }

  private void sendWhileOpen() {
    List<Note> notes = new ArrayList<>(PER_JOURNAL);
    while (!closed) {
      try {
        notes.add(waiting.take());
      } catch (InterruptedException e) {
        return;
      }
      waiting.drainTo(notes, PER_JOURNAL - 1);
      send(notes);
      notes.clear();
    }
  }

  /** Sends the notes still due as one journal; every one of them is off its way after. */
  private void send(List<Note> notes) {
    List<MetaRequest.Builder> due = new ArrayList<>(notes.size());
    try {
      for (Note note : notes) {
        if (isDue(note)) {
          due.add(MetaRequest.newBuilder().setCaller(note.caller()).setSetAttr(SetAttrOp.newBuilder()
              .setInode(note.inode())
              .setValid(SetAttrBits.ACCESSED)
              .setNowNs(note.readAt())));
        }
      }
      if (!due.isEmpty()) {
        meta.journal(due);
      }
    } catch (RpcException | RuntimeException e) {
      // Advice, not data: a file removed meanwhile, or a service away, costs atimes.
      LOG.debug("atime of {} inodes not updated: {}", notes.size(), e.toString());
    } finally {
      notes.forEach(note -> onTheirWay.remove(note.inode()));
    }
  }

  private boolean isDue(Note note) {
    try {
      return Relatime.isDue(meta.cachedAttr(note.caller(), note.inode()), note.readAt());
    } catch (RpcException e) {
      return false; // removed meanwhile: nothing to note
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
    closed = true;
    sender.interrupt();
  }

  /** Whether notes are still on their way; for tests. */
  boolean busy() {
    return !onTheirWay.isEmpty();
  }
}
