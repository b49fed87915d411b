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
#   phase "disaggregated": scripts/up.sh --topology disaggregated -m 3 -n 4 with a short
#                  --dead-after: the shell tools again, then the fault tests that mean something
#                  for a GFS-style cluster (the metadata leader killed during a copy, a data node
#                  killed while a large file streams, a corrupt replica, rm reaping every copy, a
#                  data node dead and replaced, a full restart) and disagg_* (roles, placement).
# Tests are discovered by name (cluster_tests.sh): test_* (the shell tools), then cluster3_* in
# phase three, cluster4_* in phase four, and the list below plus disagg_* in the disaggregated
# phase; a test that does not run prints SKIP.
# Usage: tests/e2e/cluster_run.sh [three] [four] [disaggregated]     (all phases by default)
# Environment: SHOAL_E2E_RUN (run dir, default a new /tmp dir), SHOAL_E2E_BASE_PORT (default
# 7600; phase four uses +100), SHOAL_E2E_TESTS (an extended regex: run only matching tests),
# SHOAL_E2E_KEEP=1 (keep the run dir), SHOAL_SKIP_BUILD=1 (use the jars already built).
# The disaggregated phase uses SHOAL_E2E_BASE_PORT + 200.
# Uses its own run dirs and ports, so it never touches a cluster the user started.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export ROOT_DIR=$root
run_base=${SHOAL_E2E_RUN:-$(mktemp -d /tmp/shoal-cluster-e2e.XXXXXX)}
port_base=${SHOAL_E2E_BASE_PORT:-7600}
only=${SHOAL_E2E_TESTS:-.}
phases=${*:-three four disaggregated}
. "$here/harness.sh"
. "$here/shell_tools_tests.sh"
. "$here/lifecycle_tests.sh"
. "$here/cluster_tests.sh"
. "$here/capability_tests.sh"
. "$here/short_circuit_tests.sh"
. "$here/disaggregated_tests.sh"
. "$here/s3_tests.sh"
# Tests write figures worth seeing even on success (note) here; run_test captures the rest.
exec 3>&1

# use_cluster NAME PORT SERVERS SERVER_ARGS [UP_ARGS...]: points the scripts and tests at one
# cluster; SERVERS counts the servers up.sh's -n makes (the data nodes when disaggregated),
# MEMBERS every member, UP_ARGS go to up.sh before -n.
use_cluster() {
  export SHOAL_RUN=$run_base/$1 SHOAL_BASE_PORT=$2 SERVERS=$3 SHOAL_SERVER_ARGS=$4
  shift 4
  UP_ARGS=("$@")
  export MNT=$SHOAL_RUN/mnt SCRATCH=$SHOAL_RUN/scratch
  mkdir -p "$SCRATCH"
}

# The members up.sh started in the current cluster, as node.sh names them.
member_keys_here() { (. "$root/scripts/lib/common.sh" && member_keys); }

# Brings the current cluster up; counts a failure and returns 1 if it does not come up.
start_cluster() {
  if bash "$root/scripts/up.sh" "${UP_ARGS[@]+"${UP_ARGS[@]}"}" -n "$SERVERS" "$MNT"; then
    MEMBERS=$(member_keys_here | wc -l)
    export MEMBERS
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
  local key
  for key in $(member_keys_here); do bash "$root/scripts/node.sh" start "$key" >/dev/null 2>&1 || true; done
}

selected() { [[ $1 =~ $only ]]; }

run_cluster_test() {
  selected "$1" || return 0
  run_test "$1"
  restore_servers
}

# The shell-tool tests (test_*) on the current cluster, but two the single-server suite runs.
run_shell_tools() {
  local t
  for t in $(tests_named test_); do
    selected "$t" || continue
    case $t in
      # Single-node only: with replicas a corrupt block is read from another copy.
      test_corrupt_block_reads_as_eio)
        skip_test "$t" "single server only: a replica serves the block"; continue ;;
      # Minutes of CI for what the single-server suite's copy of it and the smaller tree copy
      # here already show.
      test_cp_a_usr_include_whole)
        skip_test "$t" "run by the single-server suite; the smaller tree copy covers replicas"; continue ;;
    esac
    run_test "$t"
  done
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
        run_shell_tools
        for t in $(tests_named cluster3_); do run_cluster_test "$t"; done
        selected s3_ && ensure_s3_clients; for t in $(tests_named s3_); do run_cluster_test "$t"; done
        stop_cluster
      fi
      ;;
    four)
      export DEAD_AFTER=10
      use_cluster four $((port_base + 100)) 4 "--replication 3 --min-replicas 2 --dead-after $DEAD_AFTER"
      if start_cluster; then
        for t in $(tests_named cluster4_); do
          # The same replacement happens in cluster4_heal_races_a_writer (with a writer) and in
          # the disaggregated phase (with its data nodes): minutes of CI for nothing new.
          if [ "$t" = cluster4_dead_server_is_replaced ] && [[ $phases == *disaggregated* ]]; then
            skip_test "$t" "the writer race here and the disaggregated phase replace a dead server"; continue
          fi
          run_cluster_test "$t"
        done
        stop_cluster
      fi
      ;;
    disaggregated)
      export DEAD_AFTER=10 REAP_PERIOD=3
      use_cluster disaggregated $((port_base + 200)) 4 \
        "--dead-after $DEAD_AFTER --reap-period $REAP_PERIOD --orphan-period 0" \
        --topology disaggregated -m 3
      if start_cluster; then
        run_shell_tools
        for t in $(tests_named disagg_) $DISAGGREGATED_FAULT_TESTS; do run_cluster_test "$t"; done
        stop_cluster
      fi
      ;;
    *) echo "cluster-e2e: unknown phase $phase (three, four, disaggregated)"; exit 2 ;;
  esac
done

e2e_summary
