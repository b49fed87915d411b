package io.shoalfs.server.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.OpenSessionOp;
import io.shoalfs.proto.Status;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ControlPlaneOrchestrator} promises the server layer, whatever the topology:
 * mutations are seen by the reads after them, an operation that fails is an answer with a
 * status (not an exceptional future), a mutation retried with the same client and sequence is
 * applied once, and the leader is known once the plane has answered. Each implementation runs
 * these through a subclass that builds it, started, over real parts (a Raft group on loopback;
 * for a forwarding plane, a real RPC server in front of one).
 */
public abstract class ControlPlaneContract {
  private static final long ROOT = 1;
  private static final Caller ROOT_CALLER = Caller.newBuilder().setUid(0).setGid(0).build();

  private ControlPlaneOrchestrator plane;
  private long clock = 1_000_000_000L;

  /** A started plane, the only member of its metadata group being {@link #leaderName()}. */
  protected abstract ControlPlaneOrchestrator start() throws Exception;

  /** The id of the member that leads the group behind the plane. */
  protected abstract String leaderName();

  /** Closes what {@link #start()} made besides the plane. */
  protected void stopTheRest() throws Exception {}

  @BeforeEach
  void startPlane() throws Exception {
    plane = start();
  }

  @AfterEach
  void closePlane() throws Exception {
    plane.close();
    stopTheRest();
  }

  @Test
  void aMutationIsSeenByTheReadAfterIt() throws Exception {
    long made = ok(mknod("seen", 0, 0)).getAttr().getInode();
    assertEquals(made, ok(lookup("seen")).getAttr().getInode());
  }

  @Test
  void aFailedOperationIsAnAnswerWithItsStatus() throws Exception {
    assertEquals(Status.ENOENT, call(lookup("missing")).getStatus());
    ok(mknod("twice", 0, 0));
    assertEquals(Status.EEXIST, call(mknod("twice", 0, 0)).getStatus());
  }

  @Test
  void aRetriedMutationIsAppliedOnce() throws Exception {
    ok(MetaRequest.newBuilder().setClientId(41).setRequestSeq(1)
        .setOpenSession(OpenSessionOp.newBuilder().setNowNs(1)).build());
    MetaRequest create = mknod("once", 41, 2);
    MetaResponse first = ok(create);
    assertEquals(first, call(create), "a retry gets the first answer, not EEXIST");
    MetaResponse again = call(mknod("once", 41, 3));
    assertEquals(Status.EEXIST, again.getStatus(), "a new sequence number is a new request");
  }

  @Test
  void theLeaderIsKnownOnceThePlaneHasAnswered() throws Exception {
    ok(mknod("any", 0, 0));
    assertEquals(leaderName(), plane.leaderId().orElse("(none)"));
  }

  @Test
  void answersNameTheLogIndexTheyReflect() throws Exception {
    MetaResponse made = ok(mknod("indexed", 0, 0));
    assertNotEquals(0, made.getAppliedIndex());
    assertTrue(ok(lookup("indexed")).getAppliedIndex() >= made.getAppliedIndex());
  }

  private MetaResponse call(MetaRequest request) throws Exception {
    return plane.submit(request).get(30, TimeUnit.SECONDS);
  }

  private MetaResponse ok(MetaRequest request) throws Exception {
    MetaResponse response = call(request);
    assertEquals(Status.OK, response.getStatus(), response.getError());
    return response;
  }

  private MetaRequest mknod(String name, long client, long seq) {
    return MetaRequest.newBuilder().setCaller(ROOT_CALLER).setClientId(client).setRequestSeq(seq)
        .setMakeNode(MakeNodeOp.newBuilder().setParent(ROOT).setName(name)
            .setType(FileType.REGULAR).setMode(0644).setNowNs(clock += 1000))
        .build();
  }

  private static MetaRequest lookup(String name) {
    return MetaRequest.newBuilder()
        .setLookup(LookupOp.newBuilder().setParent(ROOT).setName(name)).build();
  }
}
