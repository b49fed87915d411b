package io.shoalfs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.cluster.ClusterView;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.ClientPool;
import io.shoalfs.rpc.RpcException;
import io.shoalfs.rpc.RpcServer;
import io.shoalfs.server.contract.ControlPlaneContract;
import io.shoalfs.server.data.AbsentDataPlane;
import io.shoalfs.server.meta.ForwardingControlPlane;
import io.shoalfs.server.meta.RaftControlPlane;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data node's control plane: forwarded over real RPC to a metadata server (a real Raft member
 * behind the server layer's dispatcher), so it must keep every promise the member keeps.
 */
class ForwardingControlPlaneContractTest extends ControlPlaneContract {
  @TempDir Path dir;
  private RaftControlPlane member;
  private RpcServer server;
  private ExecutorService dispatch;
  private String address;

  @Override
  protected ControlPlaneOrchestrator start() throws Exception {
    member = new RaftControlPlane(RaftControlPlane.Config.of("m1",
        List.of(RaftControlPlane.peer("m1", "127.0.0.1:" + freePort())), dir));
    member.start();
    dispatch = Executors.newFixedThreadPool(2);
    server = new RpcServer("127.0.0.1", 0, 1 << 20,
        new RpcDispatcher(member, new AbsentDataPlane("m1"), () -> null), dispatch);
    address = "127.0.0.1:" + server.start();
    // A dead endpoint listed first: the plane must move past a server that takes no call.
    ClusterView view = ClusterView.of(List.of(
        metadataServer("m0", "127.0.0.1:" + freePort()), metadataServer("m1", address)));
    return new ForwardingControlPlane(() -> view, new ClientPool("metadata", 1 << 20),
        Duration.ofSeconds(30));
  }

  @Override
  protected String leaderName() {
    return "m1";
  }

  @Override
  protected void stopTheRest() throws IOException {
    server.close();
    dispatch.shutdownNow();
    member.close();
  }

  @Test
  void withNoMetadataServerUpTheCallFailsUnavailable() {
    ForwardingControlPlane alone = new ForwardingControlPlane(ClusterView::empty,
        new ClientPool("metadata", 1 << 20), Duration.ofSeconds(5));
    ExecutionException e = assertThrows(ExecutionException.class, () -> alone.submit(
        MetaRequest.newBuilder().setLookup(LookupOp.newBuilder().setParent(1).setName("x"))
            .build()).get(10, TimeUnit.SECONDS));
    RpcException rpc = assertInstanceOf(RpcException.class, e.getCause());
    assertEquals(Status.UNAVAILABLE, rpc.status());
    alone.close();
  }

  private static MemberInfo metadataServer(String id, String address) {
    return MemberInfo.newBuilder().setId(id).setAddress(address).setState(MemberState.UP)
        .addRoles(MemberRole.METADATA).build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
