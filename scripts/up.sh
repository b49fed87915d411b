#!/usr/bin/env bash
# Starts a ShoalFS cluster on loopback and mounts it: etcd, N servers (default 3), one client.
#   scripts/up.sh [-n N] [MOUNTPOINT]        (MOUNTPOINT defaults to ./mnt)
# State lives under run/ (or $SHOAL_RUN); every pid started is recorded under run/pids.
# Running it again after scripts/down.sh brings the same data back.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/s3.sh"

n=""
while getopts "n:" opt; do
  case $opt in
    n) n=$OPTARG ;;
    *) die "usage: up.sh [-n SERVERS] [MOUNTPOINT]" ;;
  esac
done
shift $((OPTIND - 1))
mnt=${1:-$SHOAL_ROOT/mnt}
mkdir -p "$mnt" "$SHOAL_RUN" "$PIDS"
mnt=$(cd "$mnt" && pwd)

# The server count is fixed by the first start: the Raft group's members live in its state.
if [ -f "$SHOAL_RUN/servers" ]; then
  [ -z "$n" ] || [ "$n" = "$(server_count)" ] || die "run dir $SHOAL_RUN was made with $(server_count) servers"
else
  echo "${n:-3}" >"$SHOAL_RUN/servers"
fi
n=$(server_count)

ensure_packages
build_if_needed
mountpoint -q "$mnt" && die "$mnt is already a mount point"

start_etcd
for i in $(seq 1 "$n"); do start_server "$i"; done
log "waiting for $n server(s) to register"
WAIT_SECONDS=90 wait_for "servers" shoal_cli wait "$ETCD_ENDPOINTS" "$n" \
  || die "servers did not come up (see $SHOAL_RUN/server-*.log)"

echo "$mnt" >"$SHOAL_RUN/mountpoint"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
java -Xmx"$CLIENT_HEAP" -XX:+ExitOnOutOfMemoryError $JAVA_OPTS -cp "$(client_classpath)" io.shoalfs.client.ShoalCli \
  mount "$ETCD_ENDPOINTS" "$mnt" >>"$SHOAL_RUN/client.log" 2>&1 &
echo $! >"$PIDS/client.pid"
WAIT_SECONDS=60 wait_for "mount" stat -f "$mnt" || die "mount did not answer (see $SHOAL_RUN/client.log)"
WAIT_SECONDS=60 wait_for "mount" mountpoint -q "$mnt" || die "mount did not appear (see $SHOAL_RUN/client.log)"
WAIT_SECONDS=60 wait_for "mount" ls "$mnt" || die "mount does not answer (see $SHOAL_RUN/client.log)"
start_s3_gateway
log "ShoalFS mounted at $mnt ($n server(s), etcd $ETCD_ENDPOINTS)"
