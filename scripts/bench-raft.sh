#!/usr/bin/env bash
# The metadata group's own latency, without FUSE or a mount: RaftGroupLatencyBench starts a
# real Raft group on loopback in one JVM and prints per-operation figures (sequential
# mutations, linearizable reads, a burst of concurrent mutations).
#   scripts/bench-raft.sh [MEMBERS]      (default 3; 1 for a one-member group to compare with)
# A benchmark, so `mvn verify` (scripts/test.sh) does not run it.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
members=${1:-3}
[[ $members =~ ^[0-9]+$ ]] || die "usage: bench-raft.sh [MEMBERS]"
cd "$SHOAL_ROOT"
set -o pipefail
mvn -B -q -pl server -am test -Dtest=RaftGroupLatencyBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmembers="$members" 2>&1 | without_escapes
