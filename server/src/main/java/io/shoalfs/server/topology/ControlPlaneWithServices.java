package io.shoalfs.server.topology;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.server.BackgroundService;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A control plane with the background services that belong beside it (the healer, which acts
 * while its member leads the metadata group): started once the plane runs, stopped before it
 * closes. How a wiring file attaches a service to the plane it works for, wherever that runs.
 */
final class ControlPlaneWithServices implements ControlPlaneOrchestrator {
  private final ControlPlaneOrchestrator plane;
  private final List<BackgroundService> services;

  ControlPlaneWithServices(ControlPlaneOrchestrator plane, List<BackgroundService> services) {
    this.plane = plane;
    this.services = List.copyOf(services);
  }

  @Override
  public void start() throws IOException {
    plane.start();
    services.forEach(BackgroundService::start);
  }

  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    return plane.submit(request);
  }

  @Override
  public Optional<String> leaderId() {
    return plane.leaderId();
  }

  @Override
  public void close() throws IOException {
    for (int i = services.size() - 1; i >= 0; i--) {
      services.get(i).close();
    }
    plane.close();
  }
}
