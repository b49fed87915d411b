package io.shoalfs.client;

import com.google.protobuf.ByteString;
import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.AllocateChunkOp;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.GetChunkLocationsOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadChunkOp;
import io.shoalfs.proto.ReportReplicaFailureOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.WriteChunkOp;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A small cluster in maps, for testing how the client turns ranges into chunk requests and how
 * it deals with replicas: members m1..mN (address 10.0.0.i:7000) each with their own chunk
 * copies and versions, and the metadata chunk map with allocate_chunk and
 * report_replica_failure as shoal.proto specifies them (placement: up data nodes in id order).
 * Writes follow the chain: the head writes, then each member of the chain in turn; the first
 * unreachable one makes the answer REPLICA_FAILED. A copy newer than the op's version answers
 * STALE_VERSION. A chunk never written reads as no bytes, a gap inside a chunk as zeros, a read
 * past a copy's end comes back short.
 *
 * <p>Faults: {@link #state} and {@link #roles} (what members() says), {@link #unreachable} (no
 * answer at all: the
 * call fails with UNAVAILABLE), {@link #corrupt} (reads of that copy answer CORRUPT),
 * {@link #failWith} (every data call answers that status).
 */
final class ChunkStoreTransport implements ShoalTransport {
  /** A data request and the member it was sent to. */
  record Sent(String member, DataRequest request) {}

  /** One member's copy of one chunk. */
  static final class Copy {
    byte[] bytes = new byte[0];
    long version;
  }

  final List<String> ids = new ArrayList<>();
  final Map<String, MemberState> state = new HashMap<>();
  /** The roles each member publishes; none listed (the default) is both. */
  final Map<String, List<MemberRole>> roles = new HashMap<>();
  final Set<String> unreachable = new HashSet<>();
  /** "member key" pairs whose copy fails its checksum. */
  final Set<String> corrupt = new HashSet<>();
  final Map<String, Map<String, Copy>> copies = new HashMap<>();
  final Map<String, ChunkLocation> chunkMap = new TreeMap<>();
  final int replication;

  final List<DataRequest> dataRequests = new ArrayList<>();
  /** The thread that sent each of {@link #dataRequests}. */
  final List<String> dataThreads = new ArrayList<>();
  final List<Sent> sent = new ArrayList<>();
  final List<MetaRequest> metaRequests = new ArrayList<>();
  /** Every request's op, meta and data, in the order sent ("meta:SET_ATTR", "data:TRUNCATE"). */
  final List<String> order = new ArrayList<>();
  final long chunkSize;
  volatile Status failWith = Status.OK;
  /** Answers to the metadata calls that are not chunk map calls. */
  volatile Function<MetaRequest, MetaResponse> metaAnswers =
      r -> MetaResponse.getDefaultInstance();

  /** One member, no replication: the single-server cluster. */
  ChunkStoreTransport(long chunkSize) {
    this(chunkSize, 1, 1);
  }

  ChunkStoreTransport(long chunkSize, int members, int replication) {
    this.chunkSize = chunkSize;
    this.replication = replication;
    for (int i = 1; i <= members; i++) {
      String id = "m" + i;
      ids.add(id);
      state.put(id, MemberState.UP);
      copies.put(id, new HashMap<>());
    }
  }

  static String key(long inode, long index) {
    return inode + "/" + index;
  }

  static String address(String id) {
    return "10.0.0." + id.substring(1) + ":7000";
  }

  static String idAt(String address) {
    return "m" + address.substring("10.0.0.".length(), address.indexOf(':'));
  }

  // ------------------------------------------------------------------ what tests look at

  synchronized List<String> sentTo(DataRequest.OpCase op) {
    return sent.stream().filter(s -> s.request().getOpCase() == op).map(Sent::member).toList();
  }

  synchronized List<DataRequest> requestsOf(DataRequest.OpCase op) {
    return sent.stream().map(Sent::request).filter(r -> r.getOpCase() == op).toList();
  }

  synchronized List<MetaRequest> metaOf(MetaRequest.OpCase op) {
    return metaRequests.stream().filter(r -> r.getOpCase() == op).toList();
  }

  synchronized byte[] copyOf(String member, long inode, long index) {
    Copy c = copies.get(member).get(key(inode, index));
    return c == null ? null : c.bytes;
  }

  synchronized ChunkLocation location(long inode, long index) {
    return chunkMap.get(key(inode, index));
  }

  /** Another client moved the chunk on: version bumped in the map and on every replica. */
  synchronized void bumpVersion(long inode, long index) {
    ChunkLocation loc = chunkMap.get(key(inode, index));
    ChunkLocation next = loc.toBuilder().setVersion(loc.getVersion() + 1).build();
    chunkMap.put(key(inode, index), next);
    for (String r : next.getReplicasList()) {
      copies.get(r).get(key(inode, index)).version = next.getVersion();
    }
  }

  // ------------------------------------------------------------------ ShoalTransport

  @Override
  public synchronized List<MemberInfo> members() {
    return ids.stream().map(id -> MemberInfo.newBuilder()
        .setId(id).setAddress(address(id)).setState(state.get(id))
        .addAllRoles(roles.getOrDefault(id, List.of())).build()).toList();
  }

  @Override
  public synchronized CompletableFuture<MetaResponse> meta(MetaRequest request) {
    metaRequests.add(request);
    order.add("meta:" + request.getOpCase());
    MetaResponse answer = switch (request.getOpCase()) {
      case GET_CHUNK_LOCATIONS -> locations(request.getGetChunkLocations());
      case ALLOCATE_CHUNK -> allocate(request.getAllocateChunk());
      case REPORT_REPLICA_FAILURE -> report(request.getReportReplicaFailure());
      default -> metaAnswers.apply(request);
    };
    // Like the state machine: every answer says which log index it reflects, one per request.
    return CompletableFuture.completedFuture(
        answer.toBuilder().setAppliedIndex(metaRequests.size()).build());
  }

  @Override
  public synchronized CompletableFuture<DataResponse> dataAt(String address, DataRequest request) {
    String member = idAt(address);
    dataRequests.add(request);
    dataThreads.add(Thread.currentThread().getName());
    sent.add(new Sent(member, request));
    order.add("data:" + request.getOpCase());
    if (unreachable.contains(member)) {
      return CompletableFuture.failedFuture(
          new RpcException(Status.UNAVAILABLE, "cannot connect to " + address));
    }
    if (failWith != Status.OK) {
      return CompletableFuture.completedFuture(
          DataResponse.newBuilder().setStatus(failWith).setError("injected").build());
    }
    DataResponse.Builder answer = DataResponse.newBuilder();
    switch (request.getOpCase()) {
      case WRITE -> writeChain(member, request.getWrite(), answer);
      case READ -> read(member, request.getRead(), answer);
      case TRUNCATE -> truncate(member, request.getTruncate().getInode(),
          request.getTruncate().getSize());
      case SYNC -> { }
      case STAT_FS -> answer.setTotalBytes(1000).setFreeBytes(400).setUsedBytes(600);
      default -> throw new IllegalArgumentException("not faked: " + request.getOpCase());
    }
    return CompletableFuture.completedFuture(answer.build());
  }

  @Override
  public void close() {}

  // ------------------------------------------------------------------ chunk map

  private MetaResponse locations(GetChunkLocationsOp op) {
    MetaResponse.Builder r = MetaResponse.newBuilder();
    long first = Integer.toUnsignedLong(op.getFirstIndex());
    for (long i = first; i < first + op.getCount() && i < first + 10_000; i++) {
      ChunkLocation loc = chunkMap.get(key(op.getInode(), i));
      if (loc != null) {
        r.addLocations(loc);
      }
    }
    return r.build();
  }

  /** What a server fills allocate_chunk's live with: the data nodes that are up. */
  private List<String> live() {
    return ClusterView.of(members()).dataNodes().stream().map(MemberInfo::getId).toList();
  }

  private MetaResponse allocate(AllocateChunkOp op) {
    String k = key(op.getChunk().getInode(), op.getChunk().getIndex());
    ChunkLocation loc = chunkMap.get(k);
    List<String> live = live();
    ChunkLocation next;
    if (loc == null) {
      if (live.isEmpty()) {
        return MetaResponse.newBuilder().setStatus(Status.UNAVAILABLE).build();
      }
      next = ChunkLocation.newBuilder().setChunk(op.getChunk()).setVersion(1)
          .addAllReplicas(live.subList(0, Math.min(replication, live.size()))).build();
    } else {
      List<String> kept = loc.getReplicasList().stream().filter(live::contains).toList();
      if (kept.isEmpty()) {
        return MetaResponse.newBuilder().setStatus(Status.UNAVAILABLE).build();
      }
      next = kept.size() == loc.getReplicasCount() ? loc : loc.toBuilder()
          .clearReplicas().addAllReplicas(kept).setVersion(loc.getVersion() + 1).build();
    }
    chunkMap.put(k, next);
    return MetaResponse.newBuilder().addLocations(next).build();
  }

  private MetaResponse report(ReportReplicaFailureOp op) {
    String k = key(op.getChunk().getInode(), op.getChunk().getIndex());
    ChunkLocation loc = chunkMap.get(k);
    if (loc == null) {
      return MetaResponse.newBuilder().setStatus(Status.ENOENT).build();
    }
    if (op.getVersion() >= loc.getVersion() && loc.getReplicasList().contains(op.getMember())
        && loc.getReplicasCount() > 1) {
      List<String> kept = new ArrayList<>(loc.getReplicasList());
      kept.remove(op.getMember());
      loc = loc.toBuilder().clearReplicas().addAllReplicas(kept)
          .setVersion(loc.getVersion() + 1).build();
      chunkMap.put(k, loc);
    }
    return MetaResponse.newBuilder().addLocations(loc).build();
  }

  // ------------------------------------------------------------------ data

  private void writeChain(String head, WriteChunkOp op, DataResponse.Builder answer) {
    if (!writeCopy(head, op, answer)) {
      return;
    }
    for (int i = 0; i < op.getChainCount(); i++) {
      String next = op.getChainIds(i);
      if (!op.getChain(i).equals(address(next))) {
        throw new AssertionError("chain address " + op.getChain(i) + " is not " + next + "'s");
      }
      if (unreachable.contains(next)) {
        answer.setStatus(Status.REPLICA_FAILED).setFailedMember(next);
        return;
      }
      if (!writeCopy(next, op, answer)) {
        return;
      }
    }
  }

  private boolean writeCopy(String member, WriteChunkOp op, DataResponse.Builder answer) {
    Copy c = copies.get(member)
        .computeIfAbsent(key(op.getChunk().getInode(), op.getChunk().getIndex()), k -> new Copy());
    if (c.version > op.getVersion()) {
      answer.setStatus(Status.STALE_VERSION).setVersion(c.version);
      return false;
    }
    int end = (int) op.getOffset() + op.getData().size();
    c.bytes = Arrays.copyOf(c.bytes, Math.max(c.bytes.length, end));
    op.getData().copyTo(c.bytes, (int) op.getOffset());
    c.version = op.getVersion();
    return true;
  }

  private void read(String member, ReadChunkOp op, DataResponse.Builder answer) {
    String k = key(op.getChunk().getInode(), op.getChunk().getIndex());
    Copy c = copies.get(member).get(k);
    if (c == null) {
      return; // no bytes: as the data node answers for a chunk it never saw
    }
    if (op.getVersion() != 0 && c.version > op.getVersion()) {
      answer.setStatus(Status.STALE_VERSION).setVersion(c.version);
      return;
    }
    if (corrupt.contains(member + " " + k)) {
      answer.setStatus(Status.CORRUPT).setError("checksum mismatch");
      return;
    }
    if (op.getOffset() >= c.bytes.length) {
      return;
    }
    int from = (int) op.getOffset();
    int to = (int) Math.min(c.bytes.length, op.getOffset() + op.getLength());
    answer.setData(ByteString.copyFrom(c.bytes, from, to - from));
  }

  private void truncate(String member, long inode, long size) {
    Map<String, Copy> mine = copies.get(member);
    String prefix = inode + "/";
    for (String k : List.copyOf(mine.keySet())) {
      if (!k.startsWith(prefix)) {
        continue;
      }
      long start = Long.parseLong(k.substring(prefix.length())) * chunkSize;
      if (start >= size) {
        mine.remove(k);
      } else if (start + mine.get(k).bytes.length > size) {
        mine.get(k).bytes = Arrays.copyOf(mine.get(k).bytes, (int) (size - start));
      }
    }
  }

  static ChunkId chunk(long inode, long index) {
    return ChunkId.newBuilder().setInode(inode).setIndex((int) index).build();
  }
}
