#!/usr/bin/env bash
# Unmounts ShoalFS and stops exactly what scripts/up.sh started (by its recorded pids).
# Data under run/ is kept: scripts/up.sh brings it back.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/s3.sh"

if [ -f "$SHOAL_RUN/mountpoint" ]; then
  mnt=$(cat "$SHOAL_RUN/mountpoint")
  if mountpoint -q "$mnt" 2>/dev/null; then
    fusermount -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || umount -l "$mnt" || true
  fi
fi
stop_s3_gateway
stop_pidfile "$PIDS/client.pid"
for f in "$PIDS"/server-*.pid; do [ -e "$f" ] && stop_pidfile "$f"; done
stop_pidfile "$PIDS/etcd.pid"
rm -f "$SHOAL_RUN/mountpoint"
log "stopped"
