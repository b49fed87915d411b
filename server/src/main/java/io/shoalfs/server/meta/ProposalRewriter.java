package io.shoalfs.server.meta;

import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.server.ControlPlaneOrchestrator;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A control plane that fills in some requests before its delegate proposes them, with what
 * this server knows and the state machine may not ask (the membership, the cluster settings):
 * apply stays deterministic because the log carries the decision. Everything else, and start,
 * close and the leader, are the delegate's.
 */
abstract class ProposalRewriter implements ControlPlaneOrchestrator {

  private final ControlPlaneOrchestrator delegate;

  ProposalRewriter(ControlPlaneOrchestrator delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** Whether {@link #rewrite} has anything to fill in for {@code request}. */
  abstract boolean rewrites(MetaRequest request);

  /** {@code request} as it is to be proposed. */
  abstract MetaRequest rewrite(MetaRequest request);

  @Override
  public void start() throws IOException {
    delegate.start();
  }

  @Override
  public CompletableFuture<MetaResponse> submit(MetaRequest request) {
    if (!rewrites(request)) {
      return delegate.submit(request);
    }
    MetaRequest rewritten;
    try {
      rewritten = rewrite(request);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return delegate.submit(rewritten);
  }

  @Override
  public Optional<String> leaderId() {
    return delegate.leaderId();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
