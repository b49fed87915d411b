package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.shoalfs.proto.MemberState.DOWN;
import static io.shoalfs.proto.MemberState.UP;

import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.Envelope;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.StatFsOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import io.shoalfs.rpc.RpcServer;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The RPC transport against real servers on loopback: addressing by member, metadata failover. */
class RpcTransportTest {
  private static final int MAX_FRAME = 1 << 20;
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private RpcServer one;
  private RpcServer two;
  private String oneAddress;
  private String twoAddress;

  @BeforeEach
  void start() throws Exception {
    one = server(1);
    two = server(2);
    oneAddress = "127.0.0.1:" + one.start();
    twoAddress = "127.0.0.1:" + two.start();
  }

  @AfterEach
  void stop() {
    one.close();
    two.close();
    pool.shutdownNow();
  }

  /** A server that says who it is: statfs total = n, getattr inode = n. */
  private RpcServer server(int n) {
    return server(n, "");
  }

  /** Like {@link #server(int)}, naming {@code leaderId} as the metadata leader. */
  private RpcServer server(int n, String leaderId) {
    return new RpcServer("127.0.0.1", 0, MAX_FRAME, request -> CompletableFuture.completedFuture(
        request.hasDataRequest()
            ? Envelope.newBuilder().setDataResponse(DataResponse.newBuilder().setTotalBytes(n)).build()
            : Envelope.newBuilder().setMetaLeaderId(leaderId).setMetaResponse(MetaResponse.newBuilder()
                .setAttr(io.shoalfs.proto.Attr.newBuilder().setInode(n))).build()),
        pool);
  }

  private static MemberInfo member(String id, String address, MemberState state,
      MemberRole... roles) {
    return MemberInfo.newBuilder().setId(id).setAddress(address).setState(state)
        .addAllRoles(List.of(roles)).build();
  }

  private static final DataRequest STATFS =
      DataRequest.newBuilder().setStatFs(StatFsOp.getDefaultInstance()).build();
  private static final MetaRequest GETATTR =
      MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(1)).build();

  @Test
  void dataGoesToTheAddressedMember() throws Exception {
    List<MemberInfo> members = List.of(member("a", oneAddress, UP), member("b", twoAddress, UP));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofSeconds(5))) {
      assertEquals(members, t.members());
      assertEquals(2, t.dataAt(twoAddress, STATFS).get(5, TimeUnit.SECONDS).getTotalBytes());
      assertEquals(1, t.dataAt(oneAddress, STATFS).get(5, TimeUnit.SECONDS).getTotalBytes());
    }
  }

  @Test
  void dataToAMemberThatIsGoneFailsUnavailableWithoutFailover() throws Exception {
    String closed = "127.0.0.1:" + freePort();
    List<MemberInfo> members = List.of(member("a", closed, UP), member("b", twoAddress, UP));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofSeconds(5))) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> t.dataAt(closed, STATFS).get(10, TimeUnit.SECONDS));
      assertEquals(Status.UNAVAILABLE, assertInstanceOf(RpcException.class, e.getCause()).status());
    }
  }

  @Test
  void metadataPrefersMembersThatAreUp() throws Exception {
    List<MemberInfo> members = List.of(member("a", oneAddress, DOWN), member("b", twoAddress, UP));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofSeconds(5))) {
      assertEquals(2, t.meta(GETATTR).get(5, TimeUnit.SECONDS).getAttr().getInode());
    }
  }

  @Test
  void metadataGoesToMetadataEndpointsOnlyNeverToADataNode() throws Exception {
    // a stores chunks only: although up and first by id, it is never asked; b serves metadata
    // and is asked although its record says down (down endpoints come last, not never).
    List<MemberInfo> members = List.of(member("a", oneAddress, UP, MemberRole.DATA),
        member("b", twoAddress, DOWN, MemberRole.METADATA));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofSeconds(5))) {
      assertEquals(2, t.meta(GETATTR).get(5, TimeUnit.SECONDS).getAttr().getInode());
      assertEquals(1, t.dataAt(oneAddress, STATFS).get(5, TimeUnit.SECONDS).getTotalBytes(),
          "data calls still reach it");
    }
    List<MemberInfo> dataOnly = List.of(member("a", oneAddress, UP, MemberRole.DATA));
    try (RpcTransport t = new RpcTransport(() -> dataOnly, MAX_FRAME, Duration.ofSeconds(5))) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> t.meta(GETATTR).get(5, TimeUnit.SECONDS));
      RpcException cause = assertInstanceOf(RpcException.class, e.getCause());
      assertEquals(Status.UNAVAILABLE, cause.status());
      assertTrue(cause.getMessage().contains("no ShoalFS metadata server"), cause.getMessage());
    }
  }

  @Test
  void metadataFailsOverFromAServerThatCannotBeReached() throws Exception {
    String closed = "127.0.0.1:" + freePort();
    List<MemberInfo> members = List.of(member("a", closed, UP), member("b", twoAddress, UP));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofSeconds(5))) {
      assertEquals(2, t.meta(GETATTR).get(10, TimeUnit.SECONDS).getAttr().getInode());
    }
  }

  @Test
  void metadataGoesToTheLeaderOnceAServerNamesIt() throws Exception {
    RpcServer namesB = server(3, "b");
    String namesBAddress = "127.0.0.1:" + namesB.start();
    List<MemberInfo> members = List.of(member("a", namesBAddress, UP), member("b", twoAddress, UP));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofSeconds(5))) {
      assertEquals(3, t.meta(GETATTR).get(5, TimeUnit.SECONDS).getAttr().getInode(), "a, first by id");
      assertEquals("b", t.metaLeader());
      assertEquals(2, t.meta(GETATTR).get(5, TimeUnit.SECONDS).getAttr().getInode(), "then b, the leader");
      assertEquals("b", t.metaLeader(), "an answer naming nobody leaves the hint alone");
    } finally {
      namesB.close();
    }
  }

  @Test
  void aNamedLeaderThatCannotBeReachedIsSkippedForTheNextServer() throws Exception {
    String closed = "127.0.0.1:" + freePort();
    RpcServer namesB = server(3, "b");
    String namesBAddress = "127.0.0.1:" + namesB.start();
    List<MemberInfo> members = List.of(member("a", namesBAddress, UP), member("b", closed, UP),
        member("c", oneAddress, UP));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofSeconds(5))) {
      assertEquals(3, t.meta(GETATTR).get(5, TimeUnit.SECONDS).getAttr().getInode(), "a, first");
      assertEquals("b", t.metaLeader());
      // b cannot be reached. The hint is dropped, so the order is a, b, c again, and the retry
      // goes to the server after b in it: c, not a or b a second time.
      long answeredBy = t.meta(GETATTR).get(10, TimeUnit.SECONDS).getAttr().getInode();
      assertEquals(1, answeredBy, "the server after b");
      assertEquals(null, t.metaLeader(), "the unreachable leader is forgotten");
    } finally {
      namesB.close();
    }
  }

  @Test
  void aMetadataCallThatAServerLeavesUnansweredGoesToTheNextServer() throws Exception {
    // Answers heartbeats (the transport does) but never the call.
    RpcServer stuck = new RpcServer("127.0.0.1", 0, MAX_FRAME,
        request -> new CompletableFuture<>(), pool);
    String stuckAddress = "127.0.0.1:" + stuck.start();
    List<MemberInfo> members = List.of(member("a", stuckAddress, UP), member("b", twoAddress, UP));
    try (RpcTransport t = new RpcTransport(() -> members, MAX_FRAME, Duration.ofMillis(500))) {
      assertEquals(2, t.meta(GETATTR).get(10, TimeUnit.SECONDS).getAttr().getInode());
    } finally {
      stuck.close();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
