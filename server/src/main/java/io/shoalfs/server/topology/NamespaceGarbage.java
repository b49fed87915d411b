package io.shoalfs.server.topology;

import io.shoalfs.proto.GarbageInode;
import io.shoalfs.proto.ListGarbageOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.PurgeOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import io.shoalfs.server.data.GarbageSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * Adapts the namespace's garbage records, through whatever control plane a node has, to the data
 * plane's reaper; {@code gone} says which holders this node purges for (the members that will
 * never purge for themselves), as the topology designates.
 */
record NamespaceGarbage(ControlPlaneOrchestrator control, Predicate<String> gone)
    implements GarbageSource {
  @Override
  public CompletableFuture<List<GarbageInode>> listGarbage(long startInode, int limit) {
    MetaRequest list = MetaRequest.newBuilder().setListGarbage(
        ListGarbageOp.newBuilder().setStartInode(startInode).setLimit(limit)).build();
    return control.submit(list).thenApply(r -> {
      check(r);
      return r.getGarbageList();
    });
  }

  @Override
  public CompletableFuture<Void> purge(String holder, List<Long> inodes) {
    MetaRequest purge = MetaRequest.newBuilder()
        .setPurge(PurgeOp.newBuilder().setMember(holder).addAllInodes(inodes)).build();
    return control.submit(purge).thenAccept(NamespaceGarbage::check);
  }

  @Override
  public boolean isGone(String holder) {
    return gone.test(holder);
  }

  static void check(MetaResponse r) {
    if (r.getStatus() != Status.OK) {
      throw new IllegalStateException("garbage call failed: " + r.getStatus() + " " + r.getError());
    }
  }
}
