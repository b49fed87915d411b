#!/usr/bin/env bash
# Entrypoint of the ShoalFS image: maps environment variables to the server's and the client's
# flags, so a compose file configures containers with `environment:` only.
#
#   shoal-entrypoint server          run a server (ShoalServerMain) in the foreground
#   shoal-entrypoint client          mount ShoalFS at $SHOAL_MOUNT and stay in the foreground
#   shoal-entrypoint server-health   exit 0 once this server is up and the metadata group has a leader
#   shoal-entrypoint client-health   exit 0 while $SHOAL_MOUNT is mounted and answers
#   shoal-entrypoint s3              run the S3 gateway on port $SHOAL_S3_PORT in the foreground
#   shoal-entrypoint s3-health       exit 0 once the gateway has its access key and accepts connections
#   shoal-entrypoint s3-env          print what an S3 client needs (AWS_ENDPOINT_URL at this
#                                    container's address, the access key, the region) as exports
#   shoal-entrypoint status          `shoal status` against $SHOAL_ETCD
#   shoal-entrypoint shoal ARGS...   the ShoalFS command line (mount/status/wait/locate)
#   anything else                    run as a command (e.g. bash)
#
# Environment (defaults in brackets):
#   SHOAL_ETCD          etcd endpoints, comma separated          [http://etcd:2379]
#   SHOAL_HEAP          -Xmx of the JVM                          [768m server, 512m client, 384m s3]
#   JAVA_OPTS           extra JVM options                        []
# server:
#   SHOAL_ID            this server's id, unique in the cluster  (required)
#   SHOAL_HOST          name or address this server binds and advertises to the others and to
#                       clients; must resolve to this container  [$(hostname)]
#   SHOAL_RPC_PORT      client/data port                         [7100]
#   SHOAL_RAFT_PORT     metadata (Raft) port; not for a data node [7200]
#   SHOAL_PEERS         every metadata member as id@host:raftport, comma separated, this
#                       server included; fixed by the first start; not for a data node
#                                                                [$SHOAL_ID@$SHOAL_HOST:$SHOAL_RAFT_PORT]
#   SHOAL_DATA_DIR      chunks and metadata; put a volume here   [/var/lib/shoalfs]
#   SHOAL_REPLICATION   copies of each chunk                     [server default: 3, capped]
#   SHOAL_MIN_REPLICAS  fewest live copies a write goes on with  [server default: 2]
#   SHOAL_DEAD_AFTER    seconds down before re-replication       [server default: 60]
#   SHOAL_TOPOLOGY      server topology: converged, disaggregated [converged]
#   SHOAL_ROLE          disaggregated only: metadata or data     (required there)
#   SHOAL_SERVER_ARGS   extra server flags, as words             []
# client:
#   SHOAL_MOUNT         mount point inside the container         [/mnt/shoal]
# s3 (the gateway makes an access key if the cluster has none, and keeps the first key's id and
# secret in $SHOAL_S3_KEY_FILE, as scripts/up.sh's gateway does):
#   SHOAL_S3_PORT       the gateway's port, on every address     [7480]
#   SHOAL_S3_KEY_FILE   where the access key is written          [/var/lib/shoalfs-s3/s3.key]
set -euo pipefail

SHOAL_HOME=/opt/shoalfs
SHOAL_ETCD=${SHOAL_ETCD:-http://etcd:2379}
SHOAL_MOUNT=${SHOAL_MOUNT:-/mnt/shoal}
SHOAL_S3_PORT=${SHOAL_S3_PORT:-7480}
SHOAL_S3_KEY_FILE=${SHOAL_S3_KEY_FILE:-/var/lib/shoalfs-s3/s3.key}

die() { echo "shoal-entrypoint: $*" >&2; exit 2; }

# Short-lived CLI calls (health checks run every few seconds): a small heap and no C2 compiler
# keep their CPU cost low next to the servers.
cli() {
  java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -cp "$SHOAL_HOME/client/*:$SHOAL_HOME/client/lib/*" io.shoalfs.client.ShoalCli "$@"
}

server() {
  [ -n "${SHOAL_ID:-}" ] || die "SHOAL_ID is required for a server"
  local host=${SHOAL_HOST:-$(hostname)}
  local rpc=${SHOAL_RPC_PORT:-7100} raft=${SHOAL_RAFT_PORT:-7200}
  local data=${SHOAL_DATA_DIR:-/var/lib/shoalfs}
  local args=(--topology "${SHOAL_TOPOLOGY:-converged}" --id "$SHOAL_ID" --host "$host"
    --rpc-port "$rpc" --data-dir "$data" --etcd "$SHOAL_ETCD")
  # A data node is outside the metadata group: no Raft port, no peers.
  if [ "${SHOAL_ROLE:-}" != data ]; then
    args+=(--raft-port "$raft" --peers "${SHOAL_PEERS:-$SHOAL_ID@$host:$raft}")
  fi
  [ -z "${SHOAL_ROLE:-}" ] || args+=(--role "$SHOAL_ROLE")
  [ -z "${SHOAL_REPLICATION:-}" ] || args+=(--replication "$SHOAL_REPLICATION")
  [ -z "${SHOAL_MIN_REPLICAS:-}" ] || args+=(--min-replicas "$SHOAL_MIN_REPLICAS")
  [ -z "${SHOAL_DEAD_AFTER:-}" ] || args+=(--dead-after "$SHOAL_DEAD_AFTER")
  # Word splitting wanted: SHOAL_SERVER_ARGS is a list of flags.
  # shellcheck disable=SC2206
  args+=(${SHOAL_SERVER_ARGS:-})
  mkdir -p "$data"
  # exec: the JVM gets docker's SIGTERM directly and its shutdown hook stops the server cleanly.
  # shellcheck disable=SC2086
  exec java -Xmx"${SHOAL_HEAP:-768m}" -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} \
    -cp "$SHOAL_HOME/server/*:$SHOAL_HOME/server/lib/*" io.shoalfs.server.ShoalServerMain "${args[@]}"
}

client() {
  [ -e /dev/fuse ] || die "/dev/fuse is missing: run with --device /dev/fuse --cap-add SYS_ADMIN"
  mkdir -p "$SHOAL_MOUNT"
  # A mount left behind by an earlier client process in this container would make mount fail.
  if mountpoint -q "$SHOAL_MOUNT"; then fusermount -u -z "$SHOAL_MOUNT" || true; fi
  # exec: SIGTERM reaches the JVM, whose shutdown hook unmounts.
  # shellcheck disable=SC2086
  exec java -Xmx"${SHOAL_HEAP:-512m}" -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} \
    -cp "$SHOAL_HOME/client/*:$SHOAL_HOME/client/lib/*" io.shoalfs.client.ShoalCli \
    mount "$SHOAL_ETCD" "$SHOAL_MOUNT"
}

s3() {
  mkdir -p "$(dirname "$SHOAL_S3_KEY_FILE")"
  # The key written by an earlier start: s3-health waits for this start's.
  rm -f "$SHOAL_S3_KEY_FILE"
  # exec: SIGTERM reaches the JVM.
  # shellcheck disable=SC2086
  exec java -Xmx"${SHOAL_HEAP:-384m}" -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} \
    -cp "$SHOAL_HOME/s3/*:$SHOAL_HOME/s3/lib/*" io.shoalfs.s3.S3GatewayMain \
    --host 0.0.0.0 --port "$SHOAL_S3_PORT" --key-file "$SHOAL_S3_KEY_FILE" "$SHOAL_ETCD"
}

# Healthy = the gateway has written its access key (it knows the cluster's settings and keys)
# and accepts connections (bash's /dev/tcp: no curl in the image).
s3_health() {
  [ -s "$SHOAL_S3_KEY_FILE" ] || { echo "no access key in $SHOAL_S3_KEY_FILE yet"; return 1; }
  (exec 3<>"/dev/tcp/127.0.0.1/$SHOAL_S3_PORT") 2>/dev/null \
    || { echo "nothing accepts connections on port $SHOAL_S3_PORT"; return 1; }
}

# The container's own address: reachable from the other containers of its networks and, on a
# Linux host, from the host, with no port published.
s3_env() {
  s3_health >&2 || return 1
  local address
  address=$(hostname -i | awk '{print $1}')
  echo "export AWS_ENDPOINT_URL=http://$address:$SHOAL_S3_PORT"
  echo "export AWS_ACCESS_KEY_ID=$(sed -n 1p "$SHOAL_S3_KEY_FILE")"
  echo "export AWS_SECRET_ACCESS_KEY=$(sed -n 2p "$SHOAL_S3_KEY_FILE")"
  echo "export AWS_DEFAULT_REGION=us-east-1"
}

# Healthy = this server is registered and up in the cluster's view, and the metadata group has
# a leader (so calls through it can be answered). An open port alone would not say that.
server_health() {
  [ -n "${SHOAL_ID:-}" ] || die "SHOAL_ID is required"
  local out
  out=$(cli status "$SHOAL_ETCD") || { echo "$out"; return 1; }
  echo "$out"
  echo "$out" | awk -v id="$SHOAL_ID" '$1 == id && $3 == "up" { found = 1 } END { exit !found }' \
    || { echo "server $SHOAL_ID is not up"; return 1; }
  ! echo "$out" | grep -q '^metadata leader: (none)' || { echo "no metadata leader"; return 1; }
}

# Healthy = the FUSE mount is there and a directory listing through it comes back in time.
client_health() {
  mountpoint -q "$SHOAL_MOUNT" || { echo "$SHOAL_MOUNT is not mounted"; return 1; }
  timeout 20 ls "$SHOAL_MOUNT" >/dev/null || { echo "$SHOAL_MOUNT does not answer"; return 1; }
}

cmd=${1:-help}
[ $# -eq 0 ] || shift
case $cmd in
  server) server ;;
  client) client ;;
  server-health) server_health ;;
  client-health) client_health ;;
  s3) s3 ;;
  s3-health) s3_health ;;
  s3-env) s3_env ;;
  status) cli status "$SHOAL_ETCD" ;;
  shoal) cli "$@" ;;
  help | -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) exec "$cmd" "$@" ;;
esac
