#!/usr/bin/env bash
# Runs the whole ShoalFS test suite: unit, RPC and in-process integration tests (mvn verify),
# then the end-to-end suite against real processes, real etcd and a real kernel FUSE mount.
# Installs what is missing first. Exits non-zero if anything failed.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
ensure_packages
command -v python3 >/dev/null || { apt-get install -y -qq python3 >/dev/null; }
command -v git >/dev/null || { apt-get install -y -qq git >/dev/null; }

cd "$SHOAL_ROOT"
log "unit and integration tests (mvn verify)"
mvn -B verify
log "end-to-end suite on a real mount"
SHOAL_SKIP_BUILD=1 bash "$SHOAL_ROOT/tests/e2e/run.sh"
