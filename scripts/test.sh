#!/usr/bin/env bash
# Runs the whole ShoalFS test suite: unit, RPC and in-process integration tests (mvn verify),
# then the end-to-end suites against real processes, real etcd and a real kernel FUSE mount:
# one server, then a cluster of 3 (and 4) servers with failures injected, then the POSIX
# conformance suite and the fsx exerciser (tests/posix/run.sh). Both topologies: the full
# suites on converged; on disaggregated (metadata servers and data nodes) the shell tools, the
# fault tests that apply to it (cluster_run.sh's disaggregated phase) and the POSIX suite with a
# shorter exerciser run.
# Installs what is missing first. Exits non-zero if anything failed; every suite runs even
# when an earlier end-to-end suite failed, so that one run shows every failure.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
ensure_packages
command -v python3 >/dev/null || { apt-get install -y -qq python3 >/dev/null; }
command -v git >/dev/null || { apt-get install -y -qq git >/dev/null; }

cd "$SHOAL_ROOT"
log "unit and integration tests (mvn verify)"
mvn -B verify
failed=0
log "end-to-end suite on a real mount, one server"
SHOAL_SKIP_BUILD=1 bash "$SHOAL_ROOT/tests/e2e/run.sh" || failed=1
log "end-to-end suite on a real mount, a cluster of servers with failures"
SHOAL_SKIP_BUILD=1 bash "$SHOAL_ROOT/tests/e2e/cluster_run.sh" || failed=1
log "POSIX conformance on two mounts, as root and as a user; locks across mounts; fsx exerciser"
# The exerciser's run lengths keep the whole of CI (this and the compose test) under an hour on
# a 2-core machine: 40 000 operations here take ~4 minutes.
SHOAL_SKIP_BUILD=1 SHOAL_POSIX_FSX_OPS=${SHOAL_POSIX_FSX_OPS:-40000} \
  bash "$SHOAL_ROOT/tests/posix/run.sh" || failed=1
log "POSIX conformance again, disaggregated: one metadata server, two data nodes"
SHOAL_SKIP_BUILD=1 SHOAL_POSIX_TOPOLOGY=disaggregated SHOAL_POSIX_SERVERS=2 \
  SHOAL_POSIX_FSX_OPS=${SHOAL_POSIX_FSX_OPS:-10000} SHOAL_POSIX_BASE_PORT=8500 \
  bash "$SHOAL_ROOT/tests/posix/run.sh" || failed=1
exit $failed
