#!/usr/bin/env bash
# Proves the docker compose cluster (deploy/docker) on a machine with no image registry:
#   1. installs docker.io/docker-compose/debootstrap with apt if missing, starts a Docker engine
#      if none runs (and stops only that one at the end);
#   2. builds the base image from Debian packages alone: `debootstrap --variant=minbase bookworm`
#      + `docker import`, then deploy/docker/base (JRE 17, fuse, libfuse2, etcd). The imported
#      root is kept in Docker's image store, so a second run skips debootstrap;
#   3. builds the ShoalFS image on it (jars built with Maven first if missing) and starts
#      deploy/docker/docker-compose.yml with that image as etcd and ShoalFS image;
#   4. in the client container, through the FUSE mount: copies a tree and a large file in and
#      compares sha256 hashes; `docker kill`s the metadata leader's container and checks that
#      the mount still writes and reads (new files, hashes), also from a freshly restarted
#      client; starts the server again and waits until it is back up; then kills s1, the
#      server the client's metadata calls go to, checks again and starts it again;
#      Before the kills, through the compose file's S3 gateway with awscli on this host (installed
#      from Debian if missing; the gateway's container address, no published port): a bucket
#      made, an object put (in multipart parts), read back by hash, seen with that hash as a
#      file on the client's mount, and a file written on the mount read back as an object;
#   5. `docker-compose down -v` (also on failure, from a trap);
#   6. steps 3-5 again for the disaggregated compose file (docker-compose.disaggregated.yml:
#      metadata servers m1-m3, data nodes d1-d3), killing the metadata leader, m1 (the first
#      metadata server, where the client's metadata calls go) and a data node in turn.
# Usage: scripts/compose-test.sh [converged] [disaggregated]     (both by default)
# Exits non-zero with a message naming the failed step. Logs: run/compose-test/.
#
# Environment: SHOAL_COMPOSE_PROJECT (compose project prefix and image tag, default
# shoalfs-compose-test: another name lets a second run share the machine's Docker engine
# without touching the first one's containers, volumes or image),
# SHOAL_COMPOSE_TREE (directory of the image copied in, default /usr/share/doc),
# SHOAL_DEBIAN_MIRROR (default http://deb.debian.org/debian), SHOAL_COMPOSE_REBUILD_BASE=1
# (debootstrap again even if the imported root is cached).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOCKER_DIR=$ROOT/deploy/docker
LOGS=$ROOT/run/compose-test
PROJECT=${SHOAL_COMPOSE_PROJECT:-shoalfs-compose-test}
# The topologies proven, in order: each has its compose file and its project (own volumes).
TOPOLOGIES=${*:-converged disaggregated}
ROOTFS_IMAGE=shoalfs-local/debian:bookworm-minbase
BASE_IMAGE=shoalfs-local/base:bookworm
SHOAL_IMAGE_TAG=shoalfs:${PROJECT#shoalfs-}
MIRROR=${SHOAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
TREE=${SHOAL_COMPOSE_TREE:-/usr/share/doc}
MNT=/mnt/shoal

step() { echo "[compose-test] $(date -u +%H:%M:%S) $*" >&2; }
fail() { echo "[compose-test] FAILED: $*" >&2; exit 1; }

mkdir -p "$LOGS"
started=$SECONDS

# ---------------------------------------------------------------- cleanup, in one trap
dockerd_pid=""
rootfs_dir=""
compose_up=0
cleanup() {
  local rc=$?
  set +e
  if [ "$compose_up" = 1 ]; then
    # Every container's log, kept for reading after a pass too (down -v deletes them).
    compose logs --no-color >"$LOGS/compose.log" 2>&1
    if [ $rc -ne 0 ]; then
      step "state at failure (logs in $LOGS/compose.log)"
      compose ps >&2
      tail -n 40 "$LOGS/compose.log" >&2
    fi
    step "docker-compose down -v"
    compose down -v --remove-orphans >>"$LOGS/down.log" 2>&1 || echo "[compose-test] down -v failed (see $LOGS/down.log)" >&2
  fi
  if [ -n "$rootfs_dir" ] && [ -d "$rootfs_dir" ]; then
    # debootstrap mounts proc/sys inside the root while it runs; never follow them.
    grep -o " $rootfs_dir/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf --one-file-system "$rootfs_dir"
  fi
  if [ -n "$dockerd_pid" ]; then
    step "stopping the Docker engine this script started (pid $dockerd_pid)"
    kill -TERM "$dockerd_pid" 2>/dev/null
    local deadline=$((SECONDS + 60))
    while kill -0 "$dockerd_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    kill -0 "$dockerd_pid" 2>/dev/null && echo "[compose-test] dockerd $dockerd_pid still running" >&2
  fi
  if [ $rc -eq 0 ]; then
    step "PASSED in $((SECONDS - started)) s"
  else
    echo "[compose-test] failed after $((SECONDS - started)) s (exit $rc)" >&2
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools and engine
apt_install() {
  step "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >>"$LOGS/apt.log" 2>&1 \
    || fail "apt-get install $* (see $LOGS/apt.log)"
}

need=()
command -v docker >/dev/null || need+=(docker.io)
# Compose v2 (the docker plugin) or v1 (docker-compose); Debian 12 packages v1.
if docker compose version >/dev/null 2>&1; then
  compose() { docker compose -p "$project" -f "$compose_file" "$@"; }
else
  command -v docker-compose >/dev/null || need+=(docker-compose)
  compose() { docker-compose -p "$project" -f "$compose_file" "$@"; }
fi
# The S3 client of the gateway check.
command -v aws >/dev/null || need+=(awscli)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || apt_install docker.io
  step "no Docker engine answers: starting dockerd (log $LOGS/dockerd.log)"
  dockerd >"$LOGS/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || { tail -n 20 "$LOGS/dockerd.log" >&2; fail "dockerd exited"; }
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { tail -n 20 "$LOGS/dockerd.log" >&2; fail "dockerd did not answer within 60 s"; }
fi

# ---------------------------------------------------------------- images
if [ "${SHOAL_COMPOSE_REBUILD_BASE:-0}" = 1 ] || ! docker image inspect "$ROOTFS_IMAGE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || apt_install debootstrap
  rootfs_dir=$(mktemp -d /var/tmp/shoalfs-rootfs.XXXXXX)
  step "debootstrap --variant=minbase bookworm (log $LOGS/debootstrap.log)"
  debootstrap --variant=minbase bookworm "$rootfs_dir" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 \
    || { tail -n 20 "$LOGS/debootstrap.log" >&2; fail "debootstrap"; }
  step "docker import -> $ROOTFS_IMAGE"
  tar -C "$rootfs_dir" -c . | docker import - "$ROOTFS_IMAGE" >/dev/null || fail "docker import"
  rm -rf --one-file-system "$rootfs_dir"
  rootfs_dir=""
else
  step "reusing cached $ROOTFS_IMAGE"
fi

# Always built: Docker's layer cache makes it instant when neither the root nor the Dockerfile changed.
step "docker build $BASE_IMAGE (log $LOGS/build-base.log)"
docker build --build-arg ROOTFS_IMAGE="$ROOTFS_IMAGE" -t "$BASE_IMAGE" "$DOCKER_DIR/base" \
  >"$LOGS/build-base.log" 2>&1 || { tail -n 20 "$LOGS/build-base.log" >&2; fail "building $BASE_IMAGE"; }

if ! ls "$ROOT"/server/target/shoal-server-*.jar "$ROOT"/fuse-client/target/shoal-fuse-client-*.jar \
     "$ROOT"/s3-gateway/target/shoal-s3-gateway-*.jar >/dev/null 2>&1 \
     || [ ! -d "$ROOT/server/target/lib" ] || [ ! -d "$ROOT/fuse-client/target/lib" ] \
     || [ ! -d "$ROOT/s3-gateway/target/lib" ]; then
  command -v mvn >/dev/null || apt_install maven openjdk-17-jdk-headless
  step "building the jars (mvn -B -q -DskipTests package)"
  (cd "$ROOT" && mvn -B -q -DskipTests package) >"$LOGS/mvn.log" 2>&1 \
    || { tail -n 30 "$LOGS/mvn.log" >&2; fail "mvn package"; }
fi

step "docker build $SHOAL_IMAGE_TAG on $BASE_IMAGE (log $LOGS/build-shoalfs.log)"
docker build --build-arg BASE_IMAGE="$BASE_IMAGE" -f "$DOCKER_DIR/Dockerfile" -t "$SHOAL_IMAGE_TAG" "$ROOT" \
  >"$LOGS/build-shoalfs.log" 2>&1 || { tail -n 20 "$LOGS/build-shoalfs.log" >&2; fail "building $SHOAL_IMAGE_TAG"; }

# ---------------------------------------------------------------- cluster
export SHOAL_IMAGE=$SHOAL_IMAGE_TAG ETCD_IMAGE=$BASE_IMAGE SHOAL_BASE_IMAGE=$BASE_IMAGE

# prove TOPOLOGY: starts that topology's compose cluster and runs every check on it.
prove() {
local topology=$1 servers first_meta
case $topology in
  converged) compose_file=$DOCKER_DIR/docker-compose.yml servers="s1 s2 s3" first_meta=s1 ;;
  disaggregated) compose_file=$DOCKER_DIR/docker-compose.disaggregated.yml
    servers="m1 m2 m3 d1 d2 d3" first_meta=m1 ;;
  *) fail "unknown topology $topology (converged, disaggregated)" ;;
esac
project=$PROJECT-$topology
local count; count=$(wc -w <<<"$servers")
step "== the $topology compose cluster ($servers)"
compose_up=1
# A run killed before its trap ran may have left the project behind.
compose down -v --remove-orphans >"$LOGS/down.log" 2>&1 || true
step "docker-compose up -d (waits for etcd and the servers to be healthy before the client)"
compose up -d --no-build >"$LOGS/up.log" 2>&1 || { cat "$LOGS/up.log" >&2; fail "docker-compose up"; }

# Container ids, taken while all run (`ps` of compose v2 leaves stopped ones out).
declare -A ids
for svc in etcd $servers client gateway; do
  ids[$svc]=$(compose ps -q "$svc")
  [ -n "${ids[$svc]}" ] || fail "service $svc has no container"
done
cid() { echo "${ids[$1]}"; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null; }
# Waits until the service's container reports healthy, for at most $2 seconds.
wait_healthy() {
  local svc=$1 deadline=$((SECONDS + $2)) id
  id=$(cid "$svc")
  until [ "$(health "$id")" = healthy ]; do
    [ $SECONDS -lt $deadline ] || fail "$svc not healthy after $2 s (health: $(health "$id"))"
    sleep 2
  done
}
for svc in etcd $servers client gateway; do wait_healthy "$svc" 300; done
client=$(cid client)
step "cluster healthy after $((SECONDS - started)) s"

# Runs a bash script in the client container; every check happens inside it, on the mount.
# The prelude's manifest lists every entry (type, mode, path, link target) and the sha256 of
# every regular file, sorted: two trees match iff their manifests do (directory sizes are
# left out: they are the filesystem's business). $big is the JRE's modules file, over one
# 64 MiB chunk: multi-chunk reads and writes.
in_client() {
  local what=$1 script=$2
  step "$what"
  timeout 900 docker exec -i "$client" bash -s >"$LOGS/last-check.log" 2>&1 <<EOF || { cat "$LOGS/last-check.log" >&2; fail "$what"; }
set -euo pipefail
manifest() {
  (cd "\$1" && find . -printf '%y %m %p -> %l\n' | LC_ALL=C sort \
    && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
same_tree() {
  manifest "\$1" >/tmp/want; manifest "\$2" >/tmp/got
  diff /tmp/want /tmp/got | head -n 20 >&2 || true
  cmp -s /tmp/want /tmp/got || { echo "\$2 differs from \$1" >&2; exit 1; }
  echo "\$2: \$(grep -c '^f ' /tmp/want) files identical to \$1"
}
same_file() {
  [ "\$(sha256sum <"\$1")" = "\$(sha256sum <"\$2")" ] || { echo "\$2 differs from \$1" >&2; exit 1; }
  echo "\$2: sha256 identical to \$1 (\$(stat -c %s "\$2") bytes)"
}
big=\$(dirname "\$(dirname "\$(readlink -f "\$(command -v java)")")")/lib/modules
$script
EOF
  cat "$LOGS/last-check.log" >&2
}

in_client "the mount is FUSE and the test data big enough" "
  grep -q ' $MNT fuse' /proc/mounts || { echo 'no FUSE mount at $MNT' >&2; exit 1; }
  [ \$(find '$TREE' -type f | wc -l) -ge 100 ] || { echo '$TREE has too few files to prove anything' >&2; exit 1; }
  [ \$(stat -c %s \$big) -gt \$((64 << 20)) ] || { echo \"\$big is not over one chunk\" >&2; exit 1; }"

in_client "copy $TREE and the JRE's modules file in, read back, compare hashes" "
  cp -a '$TREE' $MNT/tree
  cp \$big $MNT/big
  same_tree '$TREE' $MNT/tree
  same_file \$big $MNT/big"

# The gateway, from this host: its address and the cluster's access key from the container.
s3_env=$(docker exec "$(cid gateway)" shoal-entrypoint s3-env) || { echo "$s3_env" >&2; fail "shoal-entrypoint s3-env"; }
# awscli against it (the endpoint given explicitly: older awscli ignore AWS_ENDPOINT_URL).
aws_s3() { (eval "$s3_env"; aws --endpoint-url "$AWS_ENDPOINT_URL" --cli-read-timeout 120 "$@"); }
step "S3: make a bucket, put a 20 MiB object (multipart), read it back by hash"
s3_dir=$LOGS/s3-$topology
rm -rf "$s3_dir" && mkdir -p "$s3_dir"
head -c $((20 << 20)) /dev/urandom >"$s3_dir/object"
want=$(sha256sum <"$s3_dir/object" | cut -d' ' -f1)
aws_s3 s3 mb s3://compose >"$s3_dir/aws.log" 2>&1 || { cat "$s3_dir/aws.log" >&2; fail "aws s3 mb"; }
aws_s3 s3 cp --only-show-errors "$s3_dir/object" s3://compose/from-s3/object >>"$s3_dir/aws.log" 2>&1 \
  || { cat "$s3_dir/aws.log" >&2; fail "aws s3 cp (PUT)"; }
aws_s3 s3 cp --only-show-errors s3://compose/from-s3/object "$s3_dir/back" >>"$s3_dir/aws.log" 2>&1 \
  || { cat "$s3_dir/aws.log" >&2; fail "aws s3 cp (GET)"; }
[ "$(sha256sum <"$s3_dir/back" | cut -d' ' -f1)" = "$want" ] || fail "the object read back through S3 differs"
in_client "S3: the object is a file on the mount; a file written there is an object" "
  [ \"\$(sha256sum <$MNT/compose/from-s3/object | cut -d' ' -f1)\" = $want ] \\
    || { echo 'the object on the mount differs from what was put' >&2; exit 1; }
  echo 'written on the mount' >$MNT/compose/from-mount
  echo \"$MNT/compose/from-s3/object: sha256 identical to the object put through S3\""
got=$(aws_s3 s3 cp --only-show-errors s3://compose/from-mount - 2>>"$s3_dir/aws.log") \
  || { cat "$s3_dir/aws.log" >&2; fail "aws s3 cp of the file written on the mount"; }
[ "$got" = "written on the mount" ] || fail "the file written on the mount reads through S3 as '$got'"
rm -rf "$s3_dir"

# Kill the metadata leader: the harder case (a new election) than a follower.
status=$(docker exec "$client" shoal-entrypoint status) || { echo "$status" >&2; fail "shoal status"; }
echo "$status" >&2
victim=$(echo "$status" | sed -n 's/^metadata leader: //p')
[[ " $servers " == *" $victim "* ]] || fail "no metadata leader in shoal status"
step "docker kill the metadata leader's container ($victim)"
docker kill "$(cid "$victim")" >/dev/null || fail "docker kill $victim"
[ "$(docker inspect -f '{{.State.Running}}' "$(cid "$victim")")" = false ] || fail "$victim is still running after docker kill"

in_client "with $victim dead: write new files and read them back" "
  head -c 70M /dev/urandom >/tmp/r70   # two chunks
  head -c 65537 /dev/urandom >/tmp/r64k
  : >/tmp/empty
  mkdir $MNT/after-kill
  for f in r70 r64k empty; do cp /tmp/\$f $MNT/after-kill/\$f; same_file /tmp/\$f $MNT/after-kill/\$f; done
  # A snapshot: docker rewrites /etc/hosts when the container restarts.
  rm -rf /tmp/etc && cp -a /etc /tmp/etc
  cp -a /tmp/etc $MNT/after-kill/etc
  same_tree /tmp/etc $MNT/after-kill/etc
  echo appended >>$MNT/after-kill/r64k && cat /tmp/r64k - <<<appended >/tmp/r64k.2
  same_file /tmp/r64k.2 $MNT/after-kill/r64k
  mv $MNT/after-kill/r64k $MNT/after-kill/r64k.moved && rm $MNT/after-kill/empty
  [ ! -e $MNT/after-kill/empty ] && [ -f $MNT/after-kill/r64k.moved ]
  same_tree '$TREE' $MNT/tree
  same_file \$big $MNT/big"

# A restarted client has no cache: everything now comes from the two live servers.
step "restart the client container (fresh mount, $victim still dead)"
docker restart "$client" >/dev/null || fail "docker restart client"
wait_healthy client 180
[ "$(docker inspect -f '{{.State.Running}}' "$(cid "$victim")")" = false ] || fail "$victim came back on its own"
in_client "fresh mount with $victim dead: every file's hash again" "
  same_tree '$TREE' $MNT/tree
  same_file \$big $MNT/big
  same_file /tmp/r70 $MNT/after-kill/r70
  same_file /tmp/r64k.2 $MNT/after-kill/r64k.moved
  same_tree /tmp/etc $MNT/after-kill/etc"

step "start $victim again and wait until it is up in the cluster"
docker start "$(cid "$victim")" >/dev/null || fail "docker start $victim"
wait_healthy "$victim" 240
status=$(docker exec "$client" shoal-entrypoint status) || { echo "$status" >&2; fail "shoal status"; }
echo "$status" >&2
echo "$status" | grep -q "^members: $count up of $count\$" || fail "not every server is up after $victim restarted"

# The client sends metadata calls to the first live metadata server by id. A killed container
# sends no RST, so the client's connection to it stays open and silent: the client has to
# notice by itself (RPC heartbeats) and go to another server, whether or not that one leads.
step "docker kill $first_meta, the server the client's metadata calls go to"
docker kill "$(cid "$first_meta")" >/dev/null || fail "docker kill $first_meta"
in_client "with $first_meta dead: new names and data, old data still readable" "
  mkdir $MNT/after-first
  cp /tmp/r64k.2 $MNT/after-first/r64k && same_file /tmp/r64k.2 $MNT/after-first/r64k
  mv $MNT/after-first/r64k $MNT/after-first/moved && [ -f $MNT/after-first/moved ]
  same_file /tmp/r70 $MNT/after-kill/r70"
step "start $first_meta again and wait until it is up in the cluster"
docker start "$(cid "$first_meta")" >/dev/null || fail "docker start $first_meta"
wait_healthy "$first_meta" 240

if [ "$topology" = disaggregated ]; then
  # A data node: writes go around it (re-placed on the others), and every file stays readable
  # from the copies left.
  step "docker kill d2, a data node"
  docker kill "$(cid d2)" >/dev/null || fail "docker kill d2"
  in_client "with d2 dead: a new two-chunk file, and every earlier file's hash" "
    head -c 70M /dev/urandom >/tmp/r70b
    cp /tmp/r70b $MNT/after-d2 && same_file /tmp/r70b $MNT/after-d2
    same_tree '$TREE' $MNT/tree
    same_file \$big $MNT/big
    same_file /tmp/r70 $MNT/after-kill/r70"
  step "start d2 again and wait until it is up in the cluster"
  docker start "$(cid d2)" >/dev/null || fail "docker start d2"
  wait_healthy d2 240
fi

step "docker-compose down -v ($topology)"
compose logs --no-color >"$LOGS/compose-$topology.log" 2>&1
compose down -v --remove-orphans >>"$LOGS/down.log" 2>&1 || fail "docker-compose down -v ($topology)"
compose_up=0
}

for topology in $TOPOLOGIES; do prove "$topology"; done
