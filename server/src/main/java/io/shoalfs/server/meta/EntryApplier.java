package io.shoalfs.server.meta;

import com.google.protobuf.InvalidProtocolBufferException;
import io.shoalfs.proto.BatchOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReleaseCapabilityOp;
import io.shoalfs.proto.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies one log entry's request to the entry's batch: the reply table and the sessions
 * around the namespace ({@link Sessions}), group-committed batches and mounts' journals. What
 * the state machine does besides (Ratis, the store's life, the applied index) is not here.
 *
 * <p>A client's tracked mutation (client id and sequence number) is answered from the reply
 * table if it was applied before, so a retry is never applied twice; refused if its session
 * is not open or it is older than the reply window; else applied, and its answer recorded.
 * One answer is never recorded: CAP_HELD (see {@link CapabilityGate}). It changed nothing, and
 * the same request is asked again once the capability is given back; recorded, that retry
 * would be answered CAP_HELD for ever.
 */
final class EntryApplier {

  /**
   * Places an answer can take within one log entry: answers are stamped log index x this +
   * place (see MetaResponse.applied_index), so a group-committed entry's mutations stay ordered
   * among themselves. The last place is a read's: it saw every mutation of its entry.
   */
  static final int ENTRY_PLACES = 1024;

  /** A capability recall applied in the entry: its holder is to be told once it commits. */
  record Recall(long holder, long dir) {}

  /** An entry's answer, and the recalls to announce once its batch is committed. */
  record Applied(MetaResponse response, List<Recall> recalls) {}

  private final Namespace namespace;

  EntryApplier(Namespace namespace) {
    this.namespace = namespace;
  }

  /**
   * Applies the entry at log {@code index} to {@code batch}; {@code request} is what it holds,
   * null when that is not a MetaRequest.
   */
  Applied apply(MetaRequest request, KvBatch batch, long index) {
    List<Recall> recalls = new ArrayList<>();
    MetaResponse response = request != null && request.getOpCase() == MetaRequest.OpCase.BATCH
        ? applyBatch(request.getBatch(), batch, index, recalls)
        : applyOnce(request, batch, stamp(index, 0), recalls);
    return new Applied(response, List.copyOf(recalls));
  }

  /** Where an answer stands in log order (see {@link #ENTRY_PLACES}). */
  static long stamp(long logIndex, int place) {
    return logIndex * ENTRY_PLACES + place;
  }

  /** A read that saw every entry up to {@code appliedIndex}; 0 if none was applied. */
  static long readStamp(long appliedIndex) {
    return appliedIndex <= 0 ? 0 : stamp(appliedIndex, ENTRY_PLACES - 1);
  }

  /**
   * A group-committed entry: each request applied as if it had an entry of its own (its own
   * reply-table record, its own place), so one that fails leaves the others as they are.
   */
  private MetaResponse applyBatch(BatchOp requests, KvBatch batch, long index,
      List<Recall> recalls) {
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
          : applyOnce(request, batch, stamp(index, place), recalls));
    }
    return answers.build();
  }

  /**
   * Runs the request unless the reply table says this client already got an answer, or its
   * session refuses it ({@link Sessions}: not open, or a retry older than the reply window).
   */
  private MetaResponse applyOnce(MetaRequest request, KvBatch batch, long stamp,
      List<Recall> recalls) {
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
    if (tracked && request.getOpCase() != MetaRequest.OpCase.CLOSE_SESSION
        && response.getStatus() != Status.CAP_HELD) {
      batch.put(KeySchema.reply(client, seq), response.toByteArray());
      // Calls arrive out of order, so each keeps its own reply; the window bounds the table.
      batch.delete(KeySchema.reply(client, seq - KeySchema.REPLY_WINDOW));
      sessions.applied(client, seq, stamp, batch);
    }
    if (request.getOpCase() == MetaRequest.OpCase.RECALL_CAPABILITY
        && response.getStatus() == Status.OK) {
      long dir = request.getRecallCapability().getDir();
      var record = new Capabilities(batch).get(dir);
      if (record != null) {
        Capabilities.holdersOf(record).forEach(holder -> recalls.add(new Recall(holder, dir)));
      }
    }
    return response;
  }

  /**
   * A mount's journal: its ops in order, each applied as if alone under the journal's client
   * id (orphans, renames over open files, its own capabilities), each answered at the
   * journal's stamp; then the capabilities it gives back (JournalOp.release, and the shared
   * holdings of release_shared), after the ops they covered.
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
      answers.addBatched(namespace.applyJournaled(own, batch).toBuilder().setAppliedIndex(stamp));
    }
    if (journal.getJournal().getReleaseCount() > 0) {
      new CapabilityOps(batch).release(journal.getClientId(), ReleaseCapabilityOp.newBuilder()
          .addAllDirs(journal.getJournal().getReleaseList()).build());
    }
    Capabilities capabilities = new Capabilities(batch);
    for (long dir : journal.getJournal().getReleaseSharedList()) {
      capabilities.releaseShared(journal.getClientId(), dir, batch);
    }
    return answers.build();
  }

  private static MetaResponse parseReply(byte[] bytes) {
    try {
      return MetaResponse.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KvException("corrupt reply record", e);
    }
  }
}
