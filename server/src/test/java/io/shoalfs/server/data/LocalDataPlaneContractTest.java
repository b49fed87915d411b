package io.shoalfs.server.data;

import io.shoalfs.server.DataPlaneOrchestrator;
import io.shoalfs.server.contract.DataPlaneContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The chunk store every data node runs (converged servers, disaggregated data nodes). */
class LocalDataPlaneContractTest extends DataPlaneContract {
  @TempDir Path dir;

  @Override
  protected DataPlaneOrchestrator start() throws Exception {
    LocalDataPlane plane = new LocalDataPlane(DataPlaneSettings.defaults(dir)
        .withSizes(1 << 20, 64 << 10));
    plane.start();
    return plane;
  }
}
