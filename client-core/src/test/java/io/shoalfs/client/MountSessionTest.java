package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.proto.Caller;
import io.shoalfs.proto.DataRequest;
import io.shoalfs.proto.DataResponse;
import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaRequest.OpCase;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** A mount's session: opened first, every mutation numbered in it, replaced when it ended. */
class MountSessionTest {

  private final List<MetaRequest> sent = new ArrayList<>();
  private Function<MetaRequest, Status> answer = r -> Status.OK;

  private final ShoalTransport cluster = new ShoalTransport() {
    @Override
    public synchronized CompletableFuture<MetaResponse> meta(MetaRequest request) {
      sent.add(request);
      return CompletableFuture.completedFuture(
          MetaResponse.newBuilder().setStatus(answer.apply(request)).build());
    }

    @Override
    public CompletableFuture<DataResponse> dataAt(String address, DataRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<MemberInfo> members() {
      return List.of();
    }

    @Override
    public void close() {}
  };

  private final MetaClient meta = new MetaClient(cluster, Duration.ofSeconds(5), 42);

  private void rmdir(String name) throws RpcException {
    meta.call(Caller.getDefaultInstance(), MetaRequest.newBuilder()
        .setRmdir(RmdirOp.newBuilder().setParent(1).setName(name)));
  }

  @Test
  void theSessionIsOpenedBeforeTheFirstMutationAndEveryCallIsNumberedInIt() throws Exception {
    meta.startSession();
    rmdir("a");
    rmdir("b");
    meta.closeSession();
    assertEquals(List.of(OpCase.OPEN_SESSION, OpCase.RMDIR, OpCase.RMDIR, OpCase.CLOSE_SESSION),
        sent.stream().map(MetaRequest::getOpCase).toList());
    assertEquals(List.of(42L, 42L, 42L, 42L), sent.stream().map(MetaRequest::getClientId).toList());
    assertEquals(List.of(1L, 2L, 3L, 4L), sent.stream().map(MetaRequest::getRequestSeq).toList());
  }

  @Test
  void aSessionTheServersEndedFailsThatCallAndIsReplacedByANewOne() throws Exception {
    meta.startSession();
    answer = r -> r.getClientId() == 42 && r.getOpCase() == OpCase.RMDIR
        ? Status.SESSION_EXPIRED : Status.OK;
    RpcException e = assertThrows(RpcException.class, () -> rmdir("a"));
    assertEquals(Status.SESSION_EXPIRED, e.status(), "maybe applied, maybe not: an error (EIO)");
    long fresh = meta.clientId();
    assertNotEquals(42, fresh);
    rmdir("b");
    List<MetaRequest> after = sent.subList(2, sent.size());
    assertEquals(List.of(OpCase.OPEN_SESSION, OpCase.RMDIR),
        after.stream().map(MetaRequest::getOpCase).toList(), "a new session opened first");
    assertEquals(List.of(fresh, fresh), after.stream().map(MetaRequest::getClientId).toList());
  }
}
