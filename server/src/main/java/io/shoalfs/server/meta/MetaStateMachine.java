package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The namespace as a Raft state machine. Each log entry is a {@link MetaRequest}; applying it
 * ({@link EntryApplier}) runs {@link Namespace} in one RocksDB batch that also records the
 * applied term/index and the client's reply, so a restart skips what is already applied and a
 * retried request is answered from the reply table instead of being applied twice. A client's
 * replies belong to its session ({@link Sessions}) and go with it. Once an entry that recalls a
 * directory capability is applied, the {@link CapabilityRecallListener} hears of it.
 */
public final class MetaStateMachine extends BaseStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(MetaStateMachine.class);

  private final Namespace namespace;
  private final EntryApplier entries;
  private final CapabilityRecallListener recallListener;
  private final CheckpointSnapshotStorage storage = new CheckpointSnapshotStorage();
  // Read side: anything that touches the open database. Write side: opening and closing it.
  private final ReadWriteLock dbLock = new ReentrantReadWriteLock();
  // Applies and snapshots are serial, so a checkpoint holds exactly the recorded applied index.
  private final Object applyMutex = new Object();
  private RocksKv kv;
  // Written under applyMutex; read without it by queries, to stamp their answers.
  private volatile long appliedIndex = RaftLog.INVALID_LOG_INDEX;

  /**
   * @param recallListener told, on this member, of each capability recall once its entry is
   *     applied here (every member applies every entry, so every member tells its own)
   */
  public MetaStateMachine(Namespace namespace, CapabilityRecallListener recallListener) {
    this.namespace = namespace;
    this.entries = new EntryApplier(namespace);
    this.recallListener = recallListener;
  }

  public MetaStateMachine(CapabilityRecallListener recallListener) {
    this(new Namespace(new ModePermissions()), recallListener);
  }

  public MetaStateMachine() {
    this(CapabilityRecallListener.NONE);
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    getLifeCycle().startAndTransition(this::openDatabase, IOException.class);
  }

  @Override
  public void pause() {
    LifeCycle lifeCycle = getLifeCycle();
    if (lifeCycle.getCurrentState() != LifeCycle.State.RUNNING) {
      return;
    }
    lifeCycle.transition(LifeCycle.State.PAUSING);
    closeDatabase();
    lifeCycle.transition(LifeCycle.State.PAUSED);
  }

  /** Reopens the database, first adopting the newest snapshot if it is ahead of the store. */
  @Override
  public void reinitialize() throws IOException {
    closeDatabase();
    if (getLifeCycle().getCurrentState() == LifeCycle.State.PAUSED) {
      getLifeCycle().startAndTransition(this::openDatabase, IOException.class);
    } else {
      openDatabase();
    }
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    return storage.getLatestSnapshot();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    TermIndex termIndex = TermIndex.valueOf(entry);
    EntryApplier.Applied applied;
    try {
      applied = apply(termIndex, entry.getStateMachineLogEntry().getLogData());
    } catch (RuntimeException e) {
      LOG.error("cannot apply {}", termIndex, e);
      return CompletableFuture.failedFuture(e);
    }
    announce(applied.recalls());
    return CompletableFuture.completedFuture(toMessage(applied.response()));
  }

  /**
   * Ratis replays the log from the latest snapshot, not from what the store holds, and
   * reports entries that carry no transaction (configuration, metadata) here. Those at or
   * below the store's applied index are already accounted for.
   */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    synchronized (applyMutex) {
      if (index > appliedIndex) {
        super.notifyTermIndexUpdated(term, index);
      }
    }
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    MetaRequest parsed;
    try {
      parsed = MetaRequest.parseFrom(request.getContent().asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.completedFuture(
          toMessage(Replies.fail(Status.BAD_REQUEST, "not a MetaRequest")));
    }
    if (!Namespace.isReadOnly(parsed)) {
      return CompletableFuture.completedFuture(
          toMessage(Replies.fail(Status.EINVAL, parsed.getOpCase() + " must go through the log")));
    }
    dbLock.readLock().lock();
    try {
      if (kv == null) {
        return CompletableFuture.completedFuture(
            toMessage(Replies.fail(Status.UNAVAILABLE, "state machine is paused")));
      }
      // Read before the query: everything up to it is in what the query sees (maybe more).
      long asOf = appliedIndex;
      MetaResponse answer = kv.read(r -> namespace.read(parsed, r));
      return CompletableFuture.completedFuture(
          toMessage(answer.toBuilder().setAppliedIndex(EntryApplier.readStamp(asOf)).build()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    } finally {
      dbLock.readLock().unlock();
    }
  }

  /**
   * Checkpoints the database and returns the index it holds, only once the checkpoint is
   * complete on disk.
   */
  @Override
  public long takeSnapshot() throws IOException {
    synchronized (applyMutex) {
      dbLock.readLock().lock();
      try {
        if (kv == null) {
          return RaftLog.INVALID_LOG_INDEX;
        }
        TermIndex applied = kv.read(AppliedIndex::read);
        if (applied == null) {
          return RaftLog.INVALID_LOG_INDEX;
        }
        Path target = storage.snapshotPath(applied);
        if (!Files.exists(target)) {
          Path tmp = storage.tmpPath("checkpoint-" + applied.getTerm() + "_" + applied.getIndex());
          CheckpointSnapshotStorage.deleteRecursively(tmp);
          kv.checkpoint(tmp);
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
        storage.refresh();
        LOG.info("snapshot {} written to {}", applied, target);
        return applied.getIndex();
      } finally {
        dbLock.readLock().unlock();
      }
    }
  }

  @Override
  public void close() throws IOException {
    closeDatabase();
    super.close();
  }

  // ------------------------------------------------------------------ apply

  /** Applies one entry; serial with other applies and snapshots. */
  private EntryApplier.Applied apply(TermIndex termIndex, ByteString logData) {
    synchronized (applyMutex) {
      dbLock.readLock().lock();
      try {
        if (kv == null) {
          throw new IllegalStateException("apply of " + termIndex + " while the store is closed");
        }
        if (termIndex.getIndex() <= appliedIndex) {
          // Replay of an entry the store already holds: the store is the truth, do nothing.
          return new EntryApplier.Applied(Replies.fail(Status.INTERNAL,
              "entry " + termIndex + " was already applied"), List.of());
        }
        EntryApplier.Applied applied;
        try (KvBatch batch = kv.newBatch()) {
          applied = entries.apply(parse(logData), batch, termIndex.getIndex());
          AppliedIndex.write(batch, termIndex);
          kv.commit(batch);
        }
        appliedIndex = termIndex.getIndex();
        updateLastAppliedTermIndex(termIndex);
        return applied;
      } finally {
        dbLock.readLock().unlock();
      }
    }
  }

  /**
   * Tells the listener of the recalls an entry committed. Never throws: the entry is applied
   * whatever becomes of the news (a holder that misses it finds it in its keep-alive answer).
   */
  private void announce(List<EntryApplier.Recall> recalls) {
    for (EntryApplier.Recall recall : recalls) {
      try {
        recallListener.recalled(recall.holder(), recall.dir());
      } catch (RuntimeException e) {
        LOG.warn("recall of directory {} from session {} not announced: {}", recall.dir(),
            Long.toHexString(recall.holder()), e.toString());
      }
    }
  }

  private static MetaRequest parse(ByteString logData) {
    try {
      return MetaRequest.parseFrom(logData.asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static Message toMessage(MetaResponse response) {
    return Message.valueOf(ByteString.copyFrom(response.toByteArray()));
  }

  // ------------------------------------------------------------------ open / close

  private void openDatabase() throws IOException {
    dbLock.writeLock().lock();
    try {
      storage.refresh();
      Path dbDir = storage.dbDir();
      RocksKv opened = RocksKv.open(dbDir);
      TermIndex applied = opened.read(AppliedIndex::read);
      Path snapshot = storage.latestDir();
      SnapshotInfo latest = storage.getLatestSnapshot();
      if (latest != null && (applied == null || latest.getIndex() > applied.getIndex())) {
        // A snapshot installed from the leader (or a lost store): it replaces the database.
        LOG.info("replacing store at {} (applied {}) with snapshot {}", dbDir, applied, latest);
        opened.close();
        CheckpointSnapshotStorage.deleteRecursively(dbDir);
        copyCheckpoint(snapshot, dbDir);
        opened = RocksKv.open(dbDir);
        applied = opened.read(AppliedIndex::read);
      }
      try (KvBatch batch = opened.newBatch()) {
        if (Namespace.bootstrap(batch)) {
          opened.commit(batch);
        }
      }
      kv = opened;
      appliedIndex = applied == null ? RaftLog.INVALID_LOG_INDEX : applied.getIndex();
      if (applied != null) {
        // Ratis replays the log from here on: entries at or below are already in the store.
        setLastAppliedTermIndex(applied);
      }
      LOG.info("metadata store open at {}, applied {}", dbDir, applied);
    } finally {
      dbLock.writeLock().unlock();
    }
  }

  private void closeDatabase() {
    dbLock.writeLock().lock();
    try {
      if (kv != null) {
        kv.close();
        kv = null;
      }
    } finally {
      dbLock.writeLock().unlock();
    }
  }

  /** Copies a checkpoint into a fresh database directory, hard-linking immutable SST files. */
  private static void copyCheckpoint(Path checkpoint, Path dbDir) throws IOException {
    Files.createDirectories(dbDir);
    try (Stream<Path> files = Files.list(checkpoint)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path target = dbDir.resolve(file.getFileName());
        if (file.getFileName().toString().endsWith(".sst")) {
          try {
            Files.createLink(target, file);
            continue;
          } catch (IOException | UnsupportedOperationException e) {
            // Other file system: fall through to a copy.
          }
        }
        Files.copy(file, target);
      }
    }
  }

  /** The applied term/index record (KeySchema M "applied"). */
  static final class AppliedIndex {
    private AppliedIndex() {}

    static TermIndex read(KvReader reader) {
      byte[] v = reader.get(KeySchema.APPLIED);
      if (v == null) {
        return null;
      }
      ByteBuffer b = ByteBuffer.wrap(v);
      return TermIndex.valueOf(b.getLong(), b.getLong());
    }

    static void write(KvBatch batch, TermIndex termIndex) {
      batch.put(KeySchema.APPLIED, ByteBuffer.allocate(16)
          .putLong(termIndex.getTerm()).putLong(termIndex.getIndex()).array());
    }
  }
}
