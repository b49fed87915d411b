#!/usr/bin/env bash
# The end-to-end suite: starts a real cluster (etcd + servers as processes) with scripts/up.sh,
# mounts it through the kernel, runs shell tools on it, restarts everything with
# scripts/down.sh + scripts/up.sh and checks every byte by hash.
# Uses its own run dir and ports, so it never touches a cluster the user started.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export ROOT_DIR=$root
export SHOAL_RUN=${SHOAL_E2E_RUN:-$(mktemp -d /tmp/shoal-e2e.XXXXXX)}
export SHOAL_BASE_PORT=${SHOAL_E2E_BASE_PORT:-7400}
export SERVERS=${SHOAL_E2E_SERVERS:-1}
export MNT=$SHOAL_RUN/mnt
export SCRATCH=$SHOAL_RUN/scratch
mkdir -p "$SCRATCH"
. "$here/harness.sh"
. "$here/shell_tools_tests.sh"
. "$here/lifecycle_tests.sh"

cleanup() {
  bash "$root/scripts/down.sh" >/dev/null 2>&1 || true
  if [ "${SHOAL_E2E_KEEP:-0}" != 1 ]; then rm -rf "$SHOAL_RUN"; fi
}
trap cleanup EXIT

if ! bash "$root/scripts/up.sh" -n "$SERVERS" "$MNT"; then
  echo "e2e: cluster did not start"; tail -n 50 "$SHOAL_RUN"/*.log
  echo "e2e: 0 passed, 1 failed"; exit 1
fi

for t in $(tests_named test_); do
  run_test "$t"
done
# Lifecycle tests stop and start the cluster; they run last, in the order of their numbers.
for t in $(tests_named lifecycle_); do
  run_test "$t"
done

e2e_summary
