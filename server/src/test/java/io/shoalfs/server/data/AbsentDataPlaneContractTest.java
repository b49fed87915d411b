package io.shoalfs.server.data;

import io.shoalfs.server.DataPlaneOrchestrator;
import io.shoalfs.server.contract.DataPlaneContract;

/** The data plane of a disaggregated metadata server: it refuses every call. */
class AbsentDataPlaneContractTest extends DataPlaneContract {
  @Override
  protected DataPlaneOrchestrator start() {
    return new AbsentDataPlane("m1");
  }
}
