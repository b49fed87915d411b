#!/usr/bin/env bash
# Starts a ShoalFS cluster on loopback and mounts it: etcd, the servers, one client.
#   scripts/up.sh [-n N] [MOUNTPOINT]             converged: N servers (default 3), each a
#                                                 metadata member and a data node
#   scripts/up.sh --topology disaggregated [-m M] [-n N] [MOUNTPOINT]
#                                                 M metadata servers (default 3) and N data
#                                                 nodes (default 3)
# MOUNTPOINT defaults to ./mnt. State lives under run/ (or $SHOAL_RUN); every pid started is
# recorded under run/pids. Running it again after scripts/down.sh brings the same data back.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/s3.sh"

usage="usage: up.sh [--topology converged|disaggregated] [-m METADATA_SERVERS] [-n SERVERS] [MOUNTPOINT]"
topo="" n="" m=""
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --topology) [ $# -ge 2 ] || die "$usage"; topo=$2; shift 2 ;;
    --topology=*) topo=${1#--topology=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"
while getopts "n:m:" opt; do
  case $opt in
    n) n=$OPTARG ;;
    m) m=$OPTARG ;;
    *) die "$usage" ;;
  esac
done
shift $((OPTIND - 1))
case ${topo:-$(topology)} in
  converged) [ -z "$m" ] || die "-m is for --topology disaggregated" ;;
  disaggregated) ;;
  *) die "unknown topology ${topo} (converged, disaggregated)" ;;
esac
for count in "$n" "$m"; do
  [ -z "$count" ] || [[ $count =~ ^[1-9][0-9]?$ ]] || die "$usage"
done
mnt=${1:-$SHOAL_ROOT/mnt}
mkdir -p "$mnt" "$SHOAL_RUN" "$PIDS"
mnt=$(cd "$mnt" && pwd)

# The topology and the server counts are fixed by the first start: the Raft group's members
# live in its state, and the chunk map names the data nodes.
if [ -f "$SHOAL_RUN/servers" ]; then
  [ -z "$topo" ] || [ "$topo" = "$(topology)" ] || die "run dir $SHOAL_RUN was made $(topology)"
  [ -z "$n" ] || [ "$n" = "$(server_count)" ] || die "run dir $SHOAL_RUN was made with $(server_count) servers"
  [ -z "$m" ] || [ "$m" = "$(metadata_count)" ] || die "run dir $SHOAL_RUN was made with $(metadata_count) metadata servers"
else
  echo "${topo:-converged}" >"$SHOAL_RUN/topology"
  echo "${n:-3}" >"$SHOAL_RUN/servers"
  if [ "${topo:-converged}" = disaggregated ]; then
    [ "${n:-3}" -lt 30 ] && [ "${m:-3}" -lt 20 ] || die "at most 19 metadata servers and 29 data nodes (the port layout)"
    echo "${m:-3}" >"$SHOAL_RUN/metadata-servers"
  fi
fi
members=$(member_keys | wc -l)

ensure_packages
build_if_needed
mountpoint -q "$mnt" && die "$mnt is already a mount point"

start_etcd
for key in $(member_keys); do start_server "$key"; done
log "waiting for $members server(s) to register"
WAIT_SECONDS=90 wait_for "servers" shoal_cli wait "$ETCD_ENDPOINTS" "$members" \
  || die "servers did not come up (see $SHOAL_RUN/server-*.log)"

echo "$mnt" >"$SHOAL_RUN/mountpoint"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
java -Xmx"$CLIENT_HEAP" -XX:+ExitOnOutOfMemoryError $JAVA_OPTS -cp "$(client_classpath)" io.shoalfs.client.ShoalCli \
  mount "${MOUNT_FLAGS[@]}" "$ETCD_ENDPOINTS" "$mnt" >>"$SHOAL_RUN/client.log" 2>&1 &
echo $! >"$PIDS/client.pid"
WAIT_SECONDS=60 wait_for "mount" stat -f "$mnt" || die "mount did not answer (see $SHOAL_RUN/client.log)"
WAIT_SECONDS=60 wait_for "mount" mountpoint -q "$mnt" || die "mount did not appear (see $SHOAL_RUN/client.log)"
WAIT_SECONDS=60 wait_for "mount" ls "$mnt" || die "mount does not answer (see $SHOAL_RUN/client.log)"
start_s3_gateway
if [ "$(topology)" = disaggregated ]; then
  what="$(metadata_count) metadata server(s), $(server_count) data node(s)"
else
  what="$(server_count) server(s)"
fi
log "ShoalFS mounted at $mnt ($what, etcd $ETCD_ENDPOINTS)"
