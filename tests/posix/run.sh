#!/usr/bin/env bash
# The POSIX conformance suite on a real cluster and real kernel mounts:
#   - brings up etcd + servers with scripts/up.sh (own run dir and ports), mounts it, and
#     mounts the same cluster a second time (locks, close-to-open, appends across mounts);
#   - runs tests/posix/posix_suite.py as root, then as an unprivileged user (created if
#     missing: shoaluser, with supplementary group shoalgrp/4242) through setpriv;
#   - runs the randomized exerciser tests/posix/fsx.py (mount vs a local directory);
#   - checks that a lock held through a mount whose client dies is released.
# Environment: SHOAL_POSIX_RUN (run dir, default a fresh /tmp/posix-XXXX),
# SHOAL_POSIX_BASE_PORT (default 8400), SHOAL_POSIX_SERVERS (default 1),
# SHOAL_POSIX_TOPOLOGY (converged, the default; or disaggregated: one metadata server and
# SHOAL_POSIX_SERVERS data nodes),
# SHOAL_POSIX_FSX_OPS (default 100000), SHOAL_POSIX_FSX_SEED (default 4242),
# SHOAL_POSIX_ONLY (a regex of suite checks), SHOAL_POSIX_KEEP=1 keeps the run dir.
# Checks in KNOWN_GAPS are run and printed as GAP, never counted as passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export SHOAL_RUN=${SHOAL_POSIX_RUN:-$(mktemp -d /tmp/posix-XXXXXX)}
export SHOAL_BASE_PORT=${SHOAL_POSIX_BASE_PORT:-8400}
servers=${SHOAL_POSIX_SERVERS:-1}
topology_args=()
[ "${SHOAL_POSIX_TOPOLOGY:-converged}" = converged ] \
  || topology_args=(--topology "$SHOAL_POSIX_TOPOLOGY" -m 1)
fsx_ops=${SHOAL_POSIX_FSX_OPS:-100000}
fsx_seed=${SHOAL_POSIX_FSX_SEED:-4242}
only=${SHOAL_POSIX_ONLY:-}
user=shoaluser
group=shoalgrp
py=/usr/bin/python3
mnt=$SHOAL_RUN/mnt
mnt2=$SHOAL_RUN/mnt2
. "$root/scripts/lib/common.sh"

# Checks that do not pass yet: run, shown as GAP, not counted. Keep this list honest.
#   rename_noreplace_and_exchange: renameat2 flags never reach ShoalFS. libfuse 2 speaks FUSE
#     protocol 7.19 and has no rename flags; the kernel answers EINVAL itself for any flag on a
#     protocol below 7.23. (The state machine implements RENAME_NOREPLACE; needs libfuse 3.)
#   hard_link_names_share_cached_data: libfuse 2's high-level API gives every path its own
#     kernel inode, so each name of a hard-linked file has its own page cache: a handle opened
#     through one name reads stale cached pages after a write or truncate through another.
#     (For the same reason the exerciser runs with --no-links by default; SHOAL_POSIX_FSX_LINKS=1
#     runs it with hard links, and it then finds this divergence.) Needs libfuse 3 / low level.
KNOWN_GAPS=${SHOAL_POSIX_KNOWN_GAPS-rename_noreplace_and_exchange,hard_link_names_share_cached_data}

failed=0
results=()
note() { results+=("$1"); echo "posix: $1"; }

mount_second() { start_mount client2 "$mnt2"; }
unmount_second() { stop_mount client2 "$mnt2"; }

cleanup() {
  unmount_second >/dev/null 2>&1
  bash "$root/scripts/down.sh" >/dev/null 2>&1 || true
  if [ "${SHOAL_POSIX_KEEP:-0}" != 1 ]; then rm -rf "$SHOAL_RUN"; fi
}
trap cleanup EXIT

ensure_user() {
  getent group "$group" >/dev/null || groupadd -g 4242 "$group" || return 1
  id "$user" >/dev/null 2>&1 || useradd -M -N -g users -G "$group" -s /bin/sh "$user" || return 1
  id -nG "$user" | grep -qw "$group" || usermod -a -G "$group" "$user"
}

if ! bash "$root/scripts/up.sh" "${topology_args[@]+"${topology_args[@]}"}" -n "$servers" "$mnt"; then
  echo "posix: cluster did not start"; tail -n 30 "$SHOAL_RUN"/*.log; exit 1
fi
if ! mount_second; then
  echo "posix: second mount did not come up"; tail -n 30 "$SHOAL_RUN/client2.log"; exit 1
fi
ensure_user || { echo "posix: cannot create user $user"; exit 1; }
chmod 755 "$SHOAL_RUN"  # the unprivileged user reaches the mounts through it

suite() {  # suite LABEL DIR [setpriv args...]
  local label=$1 dir=$2; shift 2
  echo "posix: suite as $label"
  (cd / && "$@" "$py" "$here/posix_suite.py" --dir "$mnt/$dir" --other "$mnt2/$dir" \
      --known-gaps "$KNOWN_GAPS" ${only:+--only "$only"}) | tee "$SHOAL_RUN/suite-$label.out"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep '^posix (' "$SHOAL_RUN/suite-$label.out" | tail -1)
  note "suite as $label: ${line#*: } (exit $rc)"
  [ "$rc" -eq 0 ] || failed=1
}

mkdir -p "$mnt/as-root"
suite root as-root
mkdir -p "$mnt/as-user" && chown "$user":users "$mnt/as-user"
suite "$user" as-user setpriv --reuid "$user" --regid users --init-groups

if [ -z "$only" ]; then
  echo "posix: a lock held through a mount whose client dies is released"
  lockdir=$mnt/lock-death
  mkdir -p "$lockdir" && : >"$lockdir/f"
  (exec "$py" -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(600)' "$mnt2/lock-death/f" "$SHOAL_RUN/locked") &
  holder=$!
  WAIT_SECONDS=30 wait_for "lock holder" test -e "$SHOAL_RUN/locked"
  if "$py" -c 'import fcntl,os,sys; fcntl.flock(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX|fcntl.LOCK_NB)' "$lockdir/f" 2>/dev/null; then
    note "FAIL lock_released_when_mount_dies: the lock was not held across mounts"; failed=1
  else
    kill -KILL "$(cat "$PIDS/client2.pid")"
    started=$SECONDS
    if WAIT_SECONDS=90 wait_for "lock release" "$py" -c 'import fcntl,os,sys; fcntl.flock(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX|fcntl.LOCK_NB)' "$lockdir/f"; then
      note "PASS lock_released_when_mount_dies (after $((SECONDS - started)) s)"
    else
      note "FAIL lock_released_when_mount_dies: still held 90 s after the client died"; failed=1
    fi
  fi
  kill -KILL "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
  unmount_second >/dev/null 2>&1
  mount_second || { note "FAIL second mount did not come back"; failed=1; }

  echo "posix: exerciser, $fsx_ops operations, seed $fsx_seed"
  ref=$SHOAL_RUN/fsx-ref
  mkdir -p "$mnt/fsx" "$ref"
  links_arg=--no-links
  [ "${SHOAL_POSIX_FSX_LINKS:-0}" = 1 ] && links_arg=
  if "$py" "$here/fsx.py" --mnt "$mnt/fsx" --ref "$ref" --other "$mnt2/fsx" $links_arg \
      --ops "$fsx_ops" --seed "$fsx_seed" | tee "$SHOAL_RUN/fsx.out" | grep -v '^fsx: [0-9]*0000 '; then :; fi
  if grep -q 'no divergence' "$SHOAL_RUN/fsx.out"; then
    note "PASS exerciser: $(grep 'no divergence' "$SHOAL_RUN/fsx.out")"
  else
    note "FAIL exerciser: $(grep -m1 DIVERGENCE "$SHOAL_RUN/fsx.out" || tail -1 "$SHOAL_RUN/fsx.out")"; failed=1
  fi
fi

echo "posix: ---- summary"
printf '  %s\n' "${results[@]}"
[ -z "$KNOWN_GAPS" ] || echo "posix: known gaps (run, not counted as passed): $KNOWN_GAPS"
[ "$failed" -eq 0 ] && echo "posix: OK" || echo "posix: FAILED"
exit $failed
