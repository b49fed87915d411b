package io.shoalfs.server.meta;

import static io.shoalfs.server.meta.RaftGroupSupport.freePort;
import static io.shoalfs.server.meta.RaftGroupSupport.waitFor;

import io.shoalfs.server.ControlPlaneOrchestrator;
import io.shoalfs.server.contract.ControlPlaneContract;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/** The Raft member every metadata server runs (converged, and disaggregated metadata servers). */
class RaftControlPlaneContractTest extends ControlPlaneContract {
  @TempDir Path dir;

  @Override
  protected ControlPlaneOrchestrator start() throws Exception {
    RaftControlPlane plane = new RaftControlPlane(RaftControlPlane.Config.of("m1",
        List.of(RaftControlPlane.peer("m1", "127.0.0.1:" + freePort())), dir));
    plane.start();
    waitFor(Duration.ofSeconds(30), () -> plane.leaderId().isPresent());
    return plane;
  }

  @Override
  protected String leaderName() {
    return "m1";
  }
}
