# Shared settings and helpers for the ShoalFS scripts. Sourced, not run.
#
# Everything a script starts is recorded as a pid file under $SHOAL_RUN/pids, so down.sh and
# node.sh act on exactly what up.sh started and nothing else.
SHOAL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHOAL_RUN=${SHOAL_RUN:-$SHOAL_ROOT/run}
SHOAL_BASE_PORT=${SHOAL_BASE_PORT:-7100}
SHOAL_HOST=127.0.0.1
ETCD_CLIENT_PORT=$((SHOAL_BASE_PORT + 90))
ETCD_PEER_PORT=$((SHOAL_BASE_PORT + 91))
ETCD_ENDPOINTS=http://$SHOAL_HOST:$ETCD_CLIENT_PORT
PIDS=$SHOAL_RUN/pids
SERVER_HEAP=${SHOAL_SERVER_HEAP:-768m}
CLIENT_HEAP=${SHOAL_CLIENT_HEAP:-512m}
# JVM options of the servers and the client; SHOAL_JAVA_OPTS replaces them (set it empty for the
# JVM's own defaults). Measured side by side (BENCHMARKS.md): the parallel collector costs less
# CPU than G1 for these heaps. C1 alone (-XX:TieredStopAtLevel=1) halves the CPU of a short
# run on a small machine (C2 compiling in four JVMs took a third of two cores) and doubles
# short metadata bursts, but minutes-long work (a /usr/include copy, read, rm) ran 10-70 %
# slower without C2, so C2 stays on by default.
JAVA_OPTS=${SHOAL_JAVA_OPTS-"-XX:+UseParallelGC"}
# Flags of every mount the scripts start: SHOAL_SHORT_CIRCUIT=0 turns short-circuit local reads
# off (chunks then always come over the network, even from a server on this host).
MOUNT_FLAGS=()
[ "${SHOAL_SHORT_CIRCUIT:-1}" = 0 ] && MOUNT_FLAGS+=(--no-short-circuit)

rpc_port() { echo $((SHOAL_BASE_PORT + $1)); }
raft_port() { echo $((SHOAL_BASE_PORT + 50 + $1)); }

log() { echo "[shoal] $*" >&2; }
die() { echo "[shoal] error: $*" >&2; exit 1; }

# Installs the Debian packages ShoalFS needs when any is missing.
ensure_packages() {
  local missing=()
  command -v fusermount >/dev/null || missing+=(fuse)
  ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2' || missing+=(libfuse2)
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v etcdctl >/dev/null || missing+=(etcd-client)
  command -v mvn >/dev/null || missing+=(maven)
  command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mountpoint >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  [ -e /dev/fuse ] || { modprobe fuse 2>/dev/null || true; }
  [ -e /dev/fuse ] || die "/dev/fuse is missing: FUSE is not available on this machine"
  # The Debian etcd package may start a system etcd on 2379; ours runs on its own ports.
}

build_if_needed() {
  if [ "${SHOAL_SKIP_BUILD:-0}" = 1 ] && ls "$SHOAL_ROOT"/server/target/shoal-server-*.jar >/dev/null 2>&1; then
    return
  fi
  log "building (mvn package)"
  # Maven's console library writes colour resets even in batch mode and even when the output
  # is not a terminal; only the build's own words should reach the user.
  (cd "$SHOAL_ROOT" && set -o pipefail && mvn -B -q -DskipTests clean package 2>&1 | without_escapes) \
    || die "build failed"
}

# Copies stdin to stdout without terminal escape sequences.
without_escapes() { sed -u 's/\x1b\[[0-9;]*[A-Za-z]//g'; }

server_classpath() { echo "$SHOAL_ROOT/server/target/shoal-server-0.1.0-SNAPSHOT.jar:$SHOAL_ROOT/server/target/lib/*"; }
client_classpath() { echo "$SHOAL_ROOT/fuse-client/target/shoal-fuse-client-0.1.0-SNAPSHOT.jar:$SHOAL_ROOT/fuse-client/target/lib/*"; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits until "$@" succeeds, polling, for at most $WAIT_SECONDS (default 60).
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + ${WAIT_SECONDS:-60}))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# Sends SIGTERM to the process in a pid file, waits, then SIGKILL if it will not go.
# start_mount NAME MOUNTPOINT [MOUNT FLAG...]: one more mount of the running cluster (pid in
# $PIDS/NAME.pid, log in $SHOAL_RUN/NAME.log), for tests that need two mounts; returns once it
# answers.
start_mount() {
  local name=$1 mnt=$2
  shift 2
  mkdir -p "$mnt"
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
  java -Xmx"$CLIENT_HEAP" -XX:+ExitOnOutOfMemoryError $JAVA_OPTS -cp "$(client_classpath)" \
    io.shoalfs.client.ShoalCli mount "${MOUNT_FLAGS[@]}" "$@" "$ETCD_ENDPOINTS" "$mnt" >>"$SHOAL_RUN/$name.log" 2>&1 &
  echo $! >"$PIDS/$name.pid"
  WAIT_SECONDS=60 wait_for "$name" mountpoint -q "$mnt" && WAIT_SECONDS=60 wait_for "$name" ls "$mnt"
}

# stop_mount NAME MOUNTPOINT: unmounts (a dead mount too) and stops its client.
stop_mount() {
  # Also a dead mount ("Transport endpoint is not connected"), which mountpoint -q denies.
  fusermount -u "$2" 2>/dev/null || umount -l "$2" 2>/dev/null || true
  stop_pidfile "$PIDS/$1.pid"
}

stop_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + ${STOP_SECONDS:-20}))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid ($(basename "$f")) ignored SIGTERM; killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

server_count() { cat "$SHOAL_RUN/servers" 2>/dev/null || echo 1; }

# The topology of the cluster in $SHOAL_RUN, fixed by its first up.sh: converged (servers s1..sN,
# each a metadata member and a data node) or disaggregated (metadata servers m1..mM and data
# nodes d1..dN, counts in $SHOAL_RUN/metadata-servers and $SHOAL_RUN/servers).
topology() { cat "$SHOAL_RUN/topology" 2>/dev/null || echo converged; }
metadata_count() { cat "$SHOAL_RUN/metadata-servers" 2>/dev/null || echo 0; }

# Every member up.sh starts, as the keys start_server and node.sh take: 1..N when converged,
# m1..mM d1..dN when disaggregated.
member_keys() {
  if [ "$(topology)" = disaggregated ]; then
    seq -f 'm%g' 1 "$(metadata_count)"; seq -f 'd%g' 1 "$(server_count)"
  else
    seq 1 "$(server_count)"
  fi
}

# member_key NAME: the key of a member named as `shoal status` prints it (s2, m1, d3); a bare
# number is a converged server's. Fails for a name this cluster does not have.
member_key() {
  local name=$1 key
  case "$(topology):$name" in
    converged:s[0-9]*) key=${name#s} ;;
    converged:[0-9]*) key=$name ;;
    disaggregated:[md][0-9]*) key=$name ;;
    *) return 1 ;;
  esac
  # Not `member_keys | grep -q`: under pipefail, grep quitting early fails the pipe.
  [[ " $(member_keys | tr '\n' ' ') " == *" $key "* ]] && echo "$key"
}

# Metadata members' Raft ports are base+50+i; data nodes' RPC ports base+20+j (j < 30).
peers_arg() {
  local n=$1 prefix=${2:-s} i out=""
  for i in $(seq 1 "$n"); do out+="${out:+,}$prefix$i@$SHOAL_HOST:$(raft_port "$i")"; done
  echo "$out"
}

start_etcd() {
  pid_alive "$PIDS/etcd.pid" && return 0
  mkdir -p "$SHOAL_RUN/etcd" "$PIDS"
  # Compacted hourly: the metadata leader republishes its member record after every healing
  # pass, and etcd otherwise keeps every revision.
  etcd --name shoal-etcd --data-dir "$SHOAL_RUN/etcd" \
    --auto-compaction-mode periodic --auto-compaction-retention 1h \
    --listen-client-urls "$ETCD_ENDPOINTS" --advertise-client-urls "$ETCD_ENDPOINTS" \
    --listen-peer-urls "http://$SHOAL_HOST:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://$SHOAL_HOST:$ETCD_PEER_PORT" \
    --initial-cluster "shoal-etcd=http://$SHOAL_HOST:$ETCD_PEER_PORT" \
    >"$SHOAL_RUN/etcd.log" 2>&1 &
  echo $! >"$PIDS/etcd.pid"
  wait_for "etcd" env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" endpoint health \
    || die "etcd did not become healthy (see $SHOAL_RUN/etcd.log)"
}

# start_server KEY: starts one member (see member_keys) unless it runs; state in
# $SHOAL_RUN/server-KEY, log server-KEY.log, pid pids/server-KEY.pid.
start_server() {
  local key=$1 id rpc plane copies=()
  pid_alive "$PIDS/server-$key.pid" && return 0
  case $key in
    m*) id=$key; rpc=$(rpc_port "${key#m}")
        plane=(--role metadata --raft-port "$(raft_port "${key#m}")"
          --peers "$(peers_arg "$(metadata_count)" m)") ;;
    d*) id=$key; rpc=$((SHOAL_BASE_PORT + 20 + ${key#d})); plane=(--role data) ;;
    *) id=s$key; rpc=$(rpc_port "$key")
       plane=(--raft-port "$(raft_port "$key")" --peers "$(peers_arg "$(server_count)")") ;;
  esac
  if [ "$(topology)" = disaggregated ]; then
    # Disaggregated servers do not cap the factor (data nodes may join later): no more copies
    # than this cluster's data nodes, unless SHOAL_SERVER_ARGS (which comes last) says otherwise.
    local d; d=$(server_count)
    copies=(--replication $((d < 3 ? d : 3)) --min-replicas $((d < 2 ? d : 2)))
  fi
  mkdir -p "$SHOAL_RUN/server-$key" "$PIDS"
  # shellcheck disable=SC2086 # JAVA_OPTS and the extra server args are lists of options
  java -Xmx"$SERVER_HEAP" -XX:+ExitOnOutOfMemoryError $JAVA_OPTS -cp "$(server_classpath)" \
    io.shoalfs.server.ShoalServerMain --topology "$(topology)" \
    --id "$id" --host "$SHOAL_HOST" --rpc-port "$rpc" "${plane[@]}" \
    --data-dir "$SHOAL_RUN/server-$key" --etcd "$ETCD_ENDPOINTS" \
    "${copies[@]}" ${SHOAL_SERVER_ARGS:-} >>"$SHOAL_RUN/server-$key.log" 2>&1 &
  echo $! >"$PIDS/server-$key.pid"
}

shoal_cli() { java -Xmx256m -XX:TieredStopAtLevel=1 -cp "$(client_classpath)" io.shoalfs.client.ShoalCli "$@"; }
