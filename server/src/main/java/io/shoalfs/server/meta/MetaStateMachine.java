package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.BatchOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
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
 * runs {@link Namespace} in one RocksDB batch that also records the applied term/index and the
 * client's reply, so a restart skips what is already applied and a retried request is
 * answered from the reply table instead of being applied twice. A client's replies belong to
 * its session ({@link Sessions}) and go with it.
 */
public final class MetaStateMachine extends BaseStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(MetaStateMachine.class);

  /**
   * Places an answer can take within one log entry: answers are stamped log index x this +
   * place (see MetaResponse.applied_index), so a group-committed entry's mutations stay ordered
   * among themselves. The last place is a read's: it saw every mutation of its entry.
   */
  static final int ENTRY_PLACES = 1024;

  private final Namespace namespace;
  private final CheckpointSnapshotStorage storage = new CheckpointSnapshotStorage();
  // Read side: anything that touches the open database. Write side: opening and closing it.
  private final ReadWriteLock dbLock = new ReentrantReadWriteLock();
  // Applies and snapshots are serial, so a checkpoint holds exactly the recorded applied index.
  private final Object applyMutex = new Object();
  private RocksKv kv;
  // Written under applyMutex; read without it by queries, to stamp their answers.
  private volatile long appliedIndex = RaftLog.INVALID_LOG_INDEX;

  public MetaStateMachine(Namespace namespace) {
    this.namespace = namespace;
  }

  public MetaStateMachine() {
    this(new Namespace(new ModePermissions()));
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
    MetaResponse response;
    try {
      response = apply(termIndex, entry.getStateMachineLogEntry().getLogData());
    } catch (RuntimeException e) {
      LOG.error("cannot apply {}", termIndex, e);
      return CompletableFuture.failedFuture(e);
    }
    return CompletableFuture.completedFuture(toMessage(response));
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
          toMessage(answer.toBuilder().setAppliedIndex(readStamp(asOf)).build()));
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

  private MetaResponse apply(TermIndex termIndex, ByteString logData) {
    synchronized (applyMutex) {
      dbLock.readLock().lock();
      try {
        if (kv == null) {
          throw new IllegalStateException("apply of " + termIndex + " while the store is closed");
        }
        if (termIndex.getIndex() <= appliedIndex) {
          // Replay of an entry the store already holds: the store is the truth, do nothing.
          return Replies.fail(Status.INTERNAL, "entry " + termIndex + " was already applied");
        }
        MetaResponse response;
        try (KvBatch batch = kv.newBatch()) {
          MetaRequest request = parse(logData);
          long index = termIndex.getIndex();
          response = request != null && request.getOpCase() == MetaRequest.OpCase.BATCH
              ? applyBatch(request.getBatch(), batch, index)
              : applyOnce(request, batch, stamp(index, 0));
          AppliedIndex.write(batch, termIndex);
          kv.commit(batch);
        }
        appliedIndex = termIndex.getIndex();
        updateLastAppliedTermIndex(termIndex);
        return response;
      } finally {
        dbLock.readLock().unlock();
      }
    }
  }

  /**
   * A group-committed entry: each request applied as if it had an entry of its own (its own
   * reply-table record, its own place), so one that fails leaves the others as they are.
   */
  private MetaResponse applyBatch(BatchOp requests, KvBatch batch, long index) {
    if (requests.getRequestsCount() >= ENTRY_PLACES) {
      return Replies.fail(Status.BAD_REQUEST, "a batch of " + requests.getRequestsCount()
          + " requests; at most " + (ENTRY_PLACES - 1));
    }
    MetaResponse.Builder answers = MetaResponse.newBuilder()
        .setStatus(Status.OK)
        .setAppliedIndex(readStamp(index));
    for (int place = 0; place < requests.getRequestsCount(); place++) {
      MetaRequest request = requests.getRequests(place);
      answers.addBatched(request.getOpCase() == MetaRequest.OpCase.BATCH
          ? Replies.fail(Status.BAD_REQUEST, "a batch inside a batch").toBuilder()
              .setAppliedIndex(stamp(index, place)).build()
          : applyOnce(request, batch, stamp(index, place)));
    }
    return answers.build();
  }

  /** Where an answer stands in log order (see {@link #ENTRY_PLACES}). */
  static long stamp(long logIndex, int place) {
    return logIndex * ENTRY_PLACES + place;
  }

  /** A read that saw every entry up to {@code appliedIndex}; 0 if none was applied. */
  private static long readStamp(long appliedIndex) {
    return appliedIndex <= 0 ? 0 : stamp(appliedIndex, ENTRY_PLACES - 1);
  }

  /**
   * Runs the request unless the reply table says this client already got an answer, or its
   * session refuses it ({@link Sessions}: not open, or a retry older than the reply window).
   */
  private MetaResponse applyOnce(MetaRequest request, KvBatch batch, long stamp) {
    if (request == null) {
      return Replies.fail(Status.BAD_REQUEST, "log entry is not a MetaRequest");
    }
    boolean tracked = request.getClientId() != 0 && !Namespace.isReadOnly(request);
    long client = request.getClientId();
    long seq = request.getRequestSeq();
    Sessions sessions = new Sessions(batch);
    if (tracked) {
      byte[] stored = batch.get(KeySchema.reply(client, seq));
      if (stored != null) {
        return parseReply(stored);
      }
      if (request.getOpCase() != MetaRequest.OpCase.OPEN_SESSION) {
        MetaResponse refused = Sessions.refusal(client, seq, sessions.get(client));
        if (refused != null) {
          return refused.toBuilder().setAppliedIndex(stamp).build();
        }
      }
    }
    // Stamped before it goes into the reply table: a resent call gets the index it was applied at.
    MetaResponse response = (request.getOpCase() == MetaRequest.OpCase.JOURNAL
        ? applyJournal(request, batch, stamp)
        : namespace.apply(request, batch)).toBuilder().setAppliedIndex(stamp).build();
    if (tracked && request.getOpCase() != MetaRequest.OpCase.CLOSE_SESSION) {
      batch.put(KeySchema.reply(client, seq), response.toByteArray());
      // Calls arrive out of order, so each keeps its own reply; the window bounds the table.
      batch.delete(KeySchema.reply(client, seq - KeySchema.REPLY_WINDOW));
      sessions.applied(client, seq, stamp, batch);
    }
    return response;
  }

  /**
   * A mount's journal: its ops in order, each applied as if alone under the journal's client
   * id (orphans, renames over open files), each answered at the journal's stamp.
   */
  private MetaResponse applyJournal(MetaRequest journal, KvBatch batch, long stamp) {
    for (MetaRequest op : journal.getJournal().getOpsList()) {
      if (!Namespace.isJournaled(op)) {
        return Replies.fail(Status.BAD_REQUEST, op.getOpCase() + " cannot be journaled");
      }
    }
    MetaResponse.Builder answers = MetaResponse.newBuilder().setStatus(Status.OK);
    for (MetaRequest op : journal.getJournal().getOpsList()) {
      MetaRequest own = op.toBuilder().setClientId(journal.getClientId()).clearRequestSeq().build();
      answers.addBatched(namespace.apply(own, batch).toBuilder().setAppliedIndex(stamp));
    }
    return answers.build();
  }

  private static MetaRequest parse(ByteString logData) {
    try {
      return MetaRequest.parseFrom(logData.asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static MetaResponse parseReply(byte[] bytes) {
    try {
      return MetaResponse.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("corrupt reply record", e);
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
