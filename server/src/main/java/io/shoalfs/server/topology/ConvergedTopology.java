package io.shoalfs.server.topology;

import io.shoalfs.proto.GarbageInode;
import io.shoalfs.proto.ListGarbageOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.PurgeOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ClusterMembership;
import io.shoalfs.server.ControlPlaneOrchestrator;
import io.shoalfs.server.DataPlaneOrchestrator;
import io.shoalfs.server.ServerConfig;
import io.shoalfs.server.ShoalServer;
import io.shoalfs.server.Topology;
import io.shoalfs.server.data.DataPlaneSettings;
import io.shoalfs.server.data.GarbageSource;
import io.shoalfs.server.data.LocalDataPlane;
import io.shoalfs.server.meta.RaftControlPlane;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The converged topology: every server is a member of the metadata Raft group AND a chunk
 * store. Read top to bottom, this is the architecture of a converged server:
 *
 * <ol>
 *   <li>the control plane: this server's member of the Raft group over RocksDB (state in
 *       {@code <data-dir>/meta});
 *   <li>the data plane: chunk files on this server's disk ({@code <data-dir>/chunks}), whose
 *       garbage collector learns of deleted files from the control plane;
 *   <li>the server layer, which serves both over RPC and registers in etcd.
 * </ol>
 */
public final class ConvergedTopology implements Topology {

  @Override
  public String name() {
    return "converged";
  }

  @Override
  public ShoalServer assemble(ServerConfig config) {
    ClusterMembership membership = new ClusterMembership(config);
    ControlPlaneOrchestrator control =
        new RaftControlPlane(config.id(), raftPeers(config.peers()), config.dataDir().resolve("meta"));
    DataPlaneSettings dataSettings = DataPlaneSettings.defaults(config.dataDir().resolve("chunks"))
        .withSizes(config.chunkSizeBytes(), config.blockSizeBytes());
    DataPlaneOrchestrator data = new LocalDataPlane(dataSettings, new NamespaceGarbage(control));
    return new ShoalServer(config, membership, control, data);
  }

  /** {@code id@host:port} strings as Raft peers. */
  static List<RaftPeer> raftPeers(List<String> peers) {
    List<RaftPeer> out = new ArrayList<>();
    for (String p : peers) {
      int at = p.indexOf('@');
      if (at <= 0) {
        throw new IllegalArgumentException("peer must be id@host:port, got " + p);
      }
      out.add(RaftControlPlane.peer(p.substring(0, at), p.substring(at + 1)));
    }
    return out;
  }

  /** Adapts the namespace's garbage list to the data plane's reaper. */
  private record NamespaceGarbage(ControlPlaneOrchestrator control) implements GarbageSource {
    @Override
    public CompletableFuture<List<Long>> listGarbage(int limit) {
      MetaRequest list = MetaRequest.newBuilder().setListGarbage(ListGarbageOp.newBuilder().setLimit(limit)).build();
      return control.submit(list).thenApply(r -> {
        check(r);
        return r.getGarbageList().stream().map(GarbageInode::getInode).toList();
      });
    }

    @Override
    public CompletableFuture<Void> purge(List<Long> inodes) {
      MetaRequest purge = MetaRequest.newBuilder().setPurge(PurgeOp.newBuilder().addAllInodes(inodes)).build();
      return control.submit(purge).thenAccept(NamespaceGarbage::check);
    }

    private static void check(MetaResponse r) {
      if (r.getStatus() != Status.OK) {
        throw new IllegalStateException("garbage call failed: " + r.getStatus() + " " + r.getError());
      }
    }
  }
}
