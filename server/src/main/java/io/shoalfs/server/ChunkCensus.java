package io.shoalfs.server;

import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.ListChunksOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * Counts chunks and under-replicated chunks for {@code shoal status} by paging through the
 * chunk map: a chunk is under-replicated when it has fewer replicas than the factor or when any
 * of its replicas is not up. Any server can answer, not only the one that heals.
 */
final class ChunkCensus {
  private static final int PAGE = 1000;
  private final ControlPlaneOrchestrator control;
  private final int replication;

  ChunkCensus(ControlPlaneOrchestrator control, int replication) {
    this.control = control;
    this.replication = replication;
  }

  record Counts(long chunks, long underReplicated) {}

  CompletableFuture<Counts> count(List<MemberInfo> members) {
    Set<String> up = members.stream().filter(m -> m.getState().equals("up"))
        .map(MemberInfo::getId).collect(Collectors.toSet());
    return page(0, 0, up, new Counts(0, 0));
  }

  private CompletableFuture<Counts> page(long inode, int index, Set<String> up, Counts sofar) {
    MetaRequest list = MetaRequest.newBuilder().setListChunks(ListChunksOp.newBuilder()
        .setStartInode(inode).setStartIndex(index).setLimit(PAGE)).build();
    return control.submit(list).thenCompose(r -> {
      if (r.getStatus() != Status.OK) {
        return CompletableFuture.failedFuture(new IllegalStateException("list_chunks: " + r.getError()));
      }
      Counts counts = add(sofar, r, up);
      if (!r.getMoreChunks() || r.getLocationsCount() == 0) {
        return CompletableFuture.completedFuture(counts);
      }
      ChunkLocation last = r.getLocations(r.getLocationsCount() - 1);
      return page(last.getChunk().getInode(), last.getChunk().getIndex() + 1, up, counts);
    });
  }

  private Counts add(Counts sofar, MetaResponse r, Set<String> up) {
    long under = 0;
    for (ChunkLocation l : r.getLocationsList()) {
      boolean allUp = l.getReplicasList().stream().allMatch(up::contains);
      if (l.getReplicasCount() < replication || !allUp) {
        under++;
      }
    }
    return new Counts(sofar.chunks() + r.getLocationsCount(), sofar.underReplicated() + under);
  }
}
