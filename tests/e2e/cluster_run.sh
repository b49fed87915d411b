#!/usr/bin/env bash
# The cluster end-to-end suite: real etcd, several real server processes, a kernel FUSE mount.
#   phase "three": scripts/up.sh -n 3; the shell-tool tests of the single-node suite, then
#                  leader failover, a stopped server catching up, a corrupt replica repaired,
#                  no metadata quorum (an errno, not a hang), a full restart keeping every byte,
#                  rm deleting every copy (orphan collector off, a short reaper period), a
#                  killed mount's session ending.
#   phase "four":  scripts/up.sh -n 4 with a short --dead-after; a server stopped for good, or
#                  lost while the cluster was down, is replaced: every chunk back at factor 3
#                  on the others, also while a writer keeps overwriting the chunk being copied.
# Tests are discovered by name (cluster_tests.sh): test_* (the shell tools), then cluster3_* in
# phase three and cluster4_* in phase four; a test that does not run prints SKIP.
# Usage: tests/e2e/cluster_run.sh [three] [four]        (both phases by default)
# Environment: SHOAL_E2E_RUN (run dir, default a new /tmp dir), SHOAL_E2E_BASE_PORT (default
# 7600; phase four uses +100), SHOAL_E2E_TESTS (an extended regex: run only matching tests),
# SHOAL_E2E_KEEP=1 (keep the run dir), SHOAL_SKIP_BUILD=1 (use the jars already built).
# Uses its own run dirs and ports, so it never touches a cluster the user started.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export ROOT_DIR=$root
run_base=${SHOAL_E2E_RUN:-$(mktemp -d /tmp/shoal-cluster-e2e.XXXXXX)}
port_base=${SHOAL_E2E_BASE_PORT:-7600}
only=${SHOAL_E2E_TESTS:-.}
phases=${*:-three four}
. "$here/harness.sh"
. "$here/shell_tools_tests.sh"
. "$here/lifecycle_tests.sh"
. "$here/cluster_tests.sh"
. "$here/capability_tests.sh"
. "$here/s3_tests.sh"
# Tests write figures worth seeing even on success (note) here; run_test captures the rest.
exec 3>&1

# use_cluster NAME PORT SERVERS SERVER_ARGS: points the scripts and tests at one cluster.
use_cluster() {
  export SHOAL_RUN=$run_base/$1 SHOAL_BASE_PORT=$2 SERVERS=$3 SHOAL_SERVER_ARGS=$4
  export MNT=$SHOAL_RUN/mnt SCRATCH=$SHOAL_RUN/scratch
  mkdir -p "$SCRATCH"
}

# Brings the current cluster up; counts a failure and returns 1 if it does not come up.
start_cluster() {
  if bash "$root/scripts/up.sh" -n "$SERVERS" "$MNT"; then
    # Built once is enough: later up.sh runs (restarts, the next phase) reuse the jars.
    export SHOAL_SKIP_BUILD=1
    return 0
  fi
  echo "cluster-e2e: the $SERVERS-server cluster did not start"
  tail -n 30 "$SHOAL_RUN"/*.log
  E2E_FAILED=$((E2E_FAILED + 1)); E2E_FAILED_NAMES+=("start-$SERVERS-servers")
  return 1
}

stop_cluster() { bash "$root/scripts/down.sh" >/dev/null 2>&1 || true; }

# After a cluster test, whatever it left stopped is started again, so that one failure does
# not fail every test after it.
restore_servers() {
  local i
  for i in $(seq 1 "$SERVERS"); do bash "$root/scripts/node.sh" start "$i" >/dev/null 2>&1 || true; done
}

selected() { [[ $1 =~ $only ]]; }

run_cluster_test() {
  selected "$1" || return 0
  run_test "$1"
  restore_servers
}

cleanup() {
  local d
  for d in "$run_base"/*/; do
    [ -d "$d/pids" ] && SHOAL_RUN=${d%/} bash "$root/scripts/down.sh" >/dev/null 2>&1
  done
  if [ "${SHOAL_E2E_KEEP:-0}" != 1 ]; then rm -rf "$run_base"; else echo "cluster-e2e: kept $run_base"; fi
}
trap cleanup EXIT

for phase in $phases; do
  case $phase in
    three)
      # The reaper alone must delete every copy of a removed file: no orphan collector here,
      # and a short reaper period (cluster3_rm_leaves_no_copy_on_any_server).
      export REAP_PERIOD=3
      use_cluster three "$port_base" 3 \
        "--replication 3 --min-replicas 2 --reap-period $REAP_PERIOD --orphan-period 0"
      if start_cluster; then
        for t in $(tests_named test_); do
          selected "$t" || continue
          # Single-node only: with replicas a corrupt block is read from another copy.
          if [ "$t" = test_corrupt_block_reads_as_eio ]; then
            skip_test "$t" "single server only: a replica serves the block"; continue
          fi
          run_test "$t"
        done
        for t in $(tests_named cluster3_); do run_cluster_test "$t"; done
        selected s3_ && ensure_s3_clients; for t in $(tests_named s3_); do run_cluster_test "$t"; done
        stop_cluster
      fi
      ;;
    four)
      export DEAD_AFTER=10
      use_cluster four $((port_base + 100)) 4 "--replication 3 --min-replicas 2 --dead-after $DEAD_AFTER"
      if start_cluster; then
        for t in $(tests_named cluster4_); do run_cluster_test "$t"; done
        stop_cluster
      fi
      ;;
    *) echo "cluster-e2e: unknown phase $phase (three, four)"; exit 2 ;;
  esac
done

e2e_summary
