package io.shoalfs.server.data;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded, least-recently-used set of open chunks, so that a stream of FUSE writes to one
 * chunk does not open and close two files per call.
 *
 * <p>Each use is a {@link Lease}. A chunk evicted (or invalidated) while leased is only
 * closed when its last lease is returned: closing a FileChannel under another thread's read
 * would fail that read with AsynchronousCloseException.
 */
final class OpenChunks implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(OpenChunks.class);

  /** Opens a chunk, or returns null when there is nothing to open. */
  interface Opener {
    ChecksummedChunk open() throws IOException;
  }

  private final int capacity;
  private final LinkedHashMap<ChunkKey, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
  private boolean closed;

  OpenChunks(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
  }

  /** A leased chunk, or null if the opener found nothing. Close the lease when done. */
  Lease acquire(ChunkKey key, Opener opener) throws IOException {
    synchronized (this) {
      ensureOpen();
      Entry entry = entries.get(key);
      if (entry != null) {
        entry.leases++;
        return new Lease(entry);
      }
    }
    // Open outside the monitor: opening may create directories and must not stall others.
    ChecksummedChunk chunk = opener.open();
    if (chunk == null) {
      return null;
    }
    Entry entry = new Entry(chunk);
    List<Entry> toClose = new ArrayList<>();
    boolean lateForClose;
    synchronized (this) {
      lateForClose = closed;
      if (closed) {
        entry.retired = true;
        toClose.add(entry);
      } else {
        entry.leases = 1;
        Entry previous = entries.put(key, entry);
        if (previous != null) {
          // Two readers of one chunk opened it at once: keep the newer handle.
          retire(previous, toClose);
        }
        Iterator<Entry> eldest = entries.values().iterator();
        while (entries.size() > capacity) {
          Entry victim = eldest.next();
          eldest.remove();
          retire(victim, toClose);
        }
      }
    }
    closeAll(toClose);
    if (lateForClose) {
      throw new IOException("chunk store is closed");
    }
    return new Lease(entry);
  }

  /** Drops a chunk's handle (its files are about to be deleted). */
  void invalidate(ChunkKey key) {
    List<Entry> toClose = new ArrayList<>();
    synchronized (this) {
      Entry entry = entries.remove(key);
      if (entry != null) {
        retire(entry, toClose);
      }
    }
    closeAll(toClose);
  }

  synchronized int size() {
    return entries.size();
  }

  @Override
  public void close() {
    List<Entry> toClose = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Entry entry : entries.values()) {
        retire(entry, toClose);
      }
      entries.clear();
    }
    closeAll(toClose);
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("chunk store is closed");
    }
  }

  private static void retire(Entry entry, List<Entry> toClose) {
    entry.retired = true;
    if (entry.leases == 0) {
      toClose.add(entry);
    }
  }

  private void release(Entry entry) {
    boolean close;
    synchronized (this) {
      entry.leases--;
      close = entry.retired && entry.leases == 0;
    }
    if (close) {
      closeAll(List.of(entry));
    }
  }

  private static void closeAll(List<Entry> toClose) {
    for (Entry entry : toClose) {
      try {
        entry.chunk.close();
      } catch (IOException e) {
        LOG.warn("closing an evicted chunk failed", e);
      }
    }
  }

  private static final class Entry {
    final ChecksummedChunk chunk;
    int leases; // guarded by the OpenChunks monitor
    boolean retired; // guarded by the OpenChunks monitor

    Entry(ChecksummedChunk chunk) {
      this.chunk = chunk;
    }
  }

  /** One use of an open chunk. */
  final class Lease implements AutoCloseable {
    private final Entry entry;
    private boolean released;

    private Lease(Entry entry) {
      this.entry = entry;
    }

    ChecksummedChunk chunk() {
      return entry.chunk;
    }

    @Override
    public void close() {
      if (!released) {
        released = true;
        release(entry);
      }
    }
  }
}
