# End-to-end tests for a cluster of several servers: failover, a server that misses writes,
# a corrupt replica, a full restart, a server that dies for good. Sourced by cluster_run.sh,
# which starts the cluster (scripts/up.sh -n N) and discovers the tests by name: cluster3_*
# run on 3 servers, cluster4_* on 4 servers with a short --dead-after. They need the helpers
# of harness.sh (fail, assert_eq) and lifecycle_tests.sh (tree_manifest).
#
# What they read from the cluster: `scripts/shoal status` (member states and roles, metadata
# leader, replication, chunk and under-replicated counts and when the healer counted them),
# `scripts/shoal locate INODE` (each chunk's version and replicas in chain order) and the chunk
# files on the servers' disks:
#   $SHOAL_RUN/server-N/chunks/<h[14..16]>/<h[12..14]>/<h>.<index>.chunk (+ .crc sidecar)
# where h is the inode as 16 hex digits.

CHUNK_SIZE=${SHOAL_E2E_CHUNK_SIZE:-$((64 << 20))}
CRC_BLOCK=${SHOAL_E2E_BLOCK_SIZE:-$((64 << 10))}
REPLICATION=${SHOAL_E2E_REPLICATION:-3}

# Writes a line to the suite's own output (fd 3, opened by cluster_run.sh), which run_test
# does not capture: for figures the suite reports even when the test passes.
note() {
  if { true >&3; } 2>/dev/null; then echo "$*" >&3; fi
  echo "$*"
}

shoal() { bash "$ROOT_DIR/scripts/shoal" "$@"; }

# The text of `shoal status`, or nothing if no server answered (never fails: callers judge).
cluster_status() { shoal status 2>/dev/null || true; }

# status_field "$status_text" NAME: the value of the "NAME: value" line.
status_field() { printf '%s\n' "$1" | sed -n "s/^$2: //p" | head -n 1; }

# member_state ID: up, down, dead, or nothing if the member is not listed.
member_state() { cluster_status | awk -v id="$1" '$1 == id { print $3; exit }'; }
member_is() { [ "$(member_state "$1")" = "$2" ]; }

# member_roles ID: what the member serves (metadata,data / metadata / data), or nothing.
member_roles() { cluster_status | awk -v id="$1" '$1 == id { print $4; exit }'; }

meta_leader() {
  local l; l=$(status_field "$(cluster_status)" "metadata leader")
  [ -n "$l" ] && [ "$l" != "(none)" ] && echo "$l"
}

now_ms() { date +%s%3N; }

# counted_from_ms "$status_text": when the healing pass the chunk counts come from started, in
# milliseconds since the epoch; fails while the counts are unknown ("counted: not yet ...").
counted_from_ms() {
  local from; from=$(status_field "$1" counted | awk '{ print $1 }')
  [ -n "$from" ] && [ "$from" != not ] && date -u -d "$from" +%s%3N
}

# cluster_converged UP TOTAL [SINCE_MS]: a leader, UP of TOTAL members up, the configured
# replication factor, at least one chunk and none under-replicated. The chunk counts are those
# of the leader's last healing pass: with SINCE_MS (pass "$(now_ms)" when the poll begins) they
# must come from a pass that started after it, so a pass from before what the test waits out
# cannot answer for it.
cluster_converged() {
  local st; st=$(cluster_status)
  local leader; leader=$(status_field "$st" "metadata leader")
  [ -n "$leader" ] && [ "$leader" != "(none)" ] \
    && [ "$(status_field "$st" members)" = "$1 up of $2" ] \
    && [ "$(status_field "$st" replication)" = "$REPLICATION" ] \
    && [ "$(status_field "$st" chunks)" -gt 0 ] 2>/dev/null \
    && [ "$(status_field "$st" under-replicated)" = 0 ] \
    && { [ -z "${3:-}" ] || [ "$(counted_from_ms "$st")" -ge "$3" ] 2>/dev/null; }
}

# poll_until SECONDS WHAT COMMAND...: runs COMMAND every second until it succeeds; fails the
# test after SECONDS, showing the cluster status as it was then.
poll_until() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "--- shoal status at the deadline:"; cluster_status
      fail "timed out after ${secs}s waiting for $what"
    fi
    sleep 1
  done
}

# wait_pid PID SECONDS WHAT: waits for a background job of this shell; fails if it does not
# end in time or ends with an error.
wait_pid() {
  local pid=$1 secs=$2 what=$3
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { kill "$pid" 2>/dev/null; fail "$what still running after ${secs}s"; }
    sleep 0.2
  done
  wait "$pid" || fail "$what failed (exit $?)"
}

file_bigger_than() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ]; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

# A metadata read the kernel cannot answer from its caches: a name never asked before.
# Succeeds once the filesystem answers it (ENOENT), fails while it errors or hangs.
metadata_answers() {
  local out
  out=$(timeout -s KILL 20 stat "$1" 2>&1) && return 0
  case $out in *"No such file or directory"*) return 0 ;; *) return 1 ;; esac
}

server_number() { [[ $1 =~ ^s([0-9]+)$ ]] || fail "not a server id: [$1]"; echo "${BASH_REMATCH[1]}"; }

# server_key ID: how the scripts and run dirs name a member: N for the converged sN (node.sh N,
# $SHOAL_RUN/server-N), the id itself for a disaggregated mN or dN.
server_key() {
  case $1 in
    s[0-9]*) server_number "$1" ;;
    [md][0-9]*) echo "$1" ;;
    *) fail "not a member id: [$1]" ;;
  esac
}

# server_id KEY: the member id of a key (2 -> s2, d2 -> d2).
server_id() { case $1 in [0-9]*) echo "s$1" ;; *) echo "$1" ;; esac; }

start_server_and_wait() {
  bash "$ROOT_DIR/scripts/node.sh" start "$1"
  poll_until 90 "$(server_id "$1") to be up" member_is "$(server_id "$1")" up
}

# chunk_file KEY INODE INDEX: the path of a chunk's data file on a server (see server_key); it
# may not exist.
chunk_file() {
  local h; h=$(printf '%016x' "$2")
  echo "$SHOAL_RUN/server-$1/chunks/${h:14:2}/${h:12:2}/$h.$3.chunk"
}

chunk_count_of() { local s; s=$(stat -c %s "$1"); echo $(((s + CHUNK_SIZE - 1) / CHUNK_SIZE)); }

# crc_ok FILE.chunk...: every block's CRC32C matches the file's .crc sidecar.
crc_ok() { java "$ROOT_DIR/tests/e2e/ChunkCrcCheck.java" "$CRC_BLOCK" "$@"; }

# copy_repaired FILE.chunk: the copy passes its CRC check again, or it is gone.
copy_repaired() { [ ! -f "$1" ] || crc_ok "$1" 2>/dev/null; }

# copy_out_of_service FILE.chunk FILE MEMBER: MEMBER's copy of FILE's first chunk is repaired,
# or gone, or no longer one of the chunk's replicas (the healer placed the fresh copy on another
# node: the stale file is then the orphan collector's, which this phase runs without).
copy_out_of_service() {
  copy_repaired "$1" && return 0
  local replicas
  read -r _ _ replicas < <(locate "$2") || return 1
  [[ ",$replicas," != *",$3,"* ]]
}

# flip_byte FILE OFFSET: replaces the byte at OFFSET by its complement, so it surely changes.
flip_byte() {
  local b; b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  [ -n "$b" ] || fail "no byte at $2 in $1"
  printf "\\$(printf '%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# patch_both REF FILE OFFSET LENGTH: writes the same random bytes over both files at OFFSET.
patch_both() {
  head -c "$4" /dev/urandom > "$SCRATCH/patch"
  local t
  for t in "$1" "$2"; do
    dd if="$SCRATCH/patch" of="$t" bs=64K oflag=seek_bytes seek="$3" conv=notrunc status=none
  done
}

# locate FILE: `shoal locate` for the file's inode: lines "INDEX VERSION R1,R2,...".
locate() { shoal locate "$(stat -c %i "$1")"; }

# The head replica of FILE's first chunk: a server that surely holds data of FILE.
first_holder() {
  local replicas
  read -r _ _ replicas < <(locate "$1") || fail "shoal locate found no chunk of $1"
  echo "${replicas%%,*}"
}

# replicas_correct FILE REF [EXCLUDED_ID]: every chunk of FILE is in the chunk map with exactly
# $REPLICATION replicas, none of them EXCLUDED_ID, and each replica's file on disk holds
# exactly REF's bytes for that chunk and passes its CRC check.
replicas_correct() {
  local f=$1 ref=$2 excluded=${3:-} ino want got idx ver replicas r n cf
  ino=$(stat -c %i "$f")
  want=$(chunk_count_of "$ref")
  got=$(locate "$f") || fail "shoal locate $f failed"
  assert_eq "$(printf '%s\n' "$got" | grep -c .)" "$want" "chunks of $f in the chunk map"
  while read -r idx ver replicas; do
    [ -n "$idx" ] || continue
    IFS=, read -ra rs <<<"$replicas"
    assert_eq "${#rs[@]}" "$REPLICATION" "replicas of chunk $idx of $f ($replicas)"
    for r in "${rs[@]}"; do
      [ "$r" != "$excluded" ] || fail "chunk $idx of $f still lists $excluded"
      n=$(server_key "$r")
      cf=$(chunk_file "$n" "$ino" "$idx")
      [ -f "$cf" ] || fail "replica $r of chunk $idx of $f: no file $cf"
      cmp <(tail -c +$((idx * CHUNK_SIZE + 1)) "$ref" | head -c "$CHUNK_SIZE") "$cf" \
        || fail "replica $r of chunk $idx of $f differs from the reference"
      crc_ok "$cf" || fail "replica $r of chunk $idx of $f fails its CRC"
    done
  done <<<"$got"
}

# ---------------------------------------------------------------- tests

# non_idempotent_ops DIR STOPFILE: until STOPFILE exists, round i makes DIR/a$i, renames it to
# DIR/b$i, and makes and removes DIR/c$i. Prints the number of rounds; exits 1 at the first
# error (a mutation applied twice surfaces as EEXIST or ENOENT).
non_idempotent_ops() {
  local i=0
  while [ ! -e "$2" ]; do
    i=$((i + 1))
    mkdir "$1/a$i" && mv -T "$1/a$i" "$1/b$i" && mkdir "$1/c$i" && rmdir "$1/c$i" \
      || { echo "round $i failed"; exit 1; }
  done
  echo "$i"
}

# Every converged server publishes both roles, and status lists them after the state: the id
# and state columns that scripts and health checks read stay where they were.
cluster3_status_lists_every_server_as_metadata_and_data() {
  local i
  for i in $(seq 1 "$SERVERS"); do
    member_is "s$i" up || fail "s$i is [$(member_state "s$i")], not up"
    [ "$(member_roles "s$i")" = metadata,data ] \
      || fail "s$i serves [$(member_roles "s$i")], not metadata,data"
  done
}

cluster3_leader_failover() {
  local dir=$MNT/failover src=/usr/include/linux
  [ -d "$src" ] || src=/usr/include
  mkdir -p "$dir"
  head -c $((300 << 20)) /dev/urandom > "$SCRATCH/big300"
  local leader n
  leader=$(meta_leader) || fail "shoal status names no metadata leader"
  n=$(server_key "$leader")

  cp -a "$src" "$dir/tree" &
  local cp_pid=$!
  # Operations that fail if applied twice: a repeated mkdir answers EEXIST, a repeated rename
  # ENOENT, so the loop stops at the first double apply (and at any other error).
  mkdir "$dir/once"
  non_idempotent_ops "$dir/once" "$SCRATCH/once.stop" > "$SCRATCH/once.log" 2>&1 &
  local ops_pid=$!
  dd if="$SCRATCH/big300" of="$dir/big" bs=1M conv=fsync status=none &
  local dd_pid=$!
  poll_until 120 "the 300 MiB write to get under way" file_bigger_than "$dir/big" $((16 << 20))
  kill -0 "$dd_pid" 2>/dev/null || note "leader failover: note: the 300 MiB write ended before the kill"
  kill -0 "$cp_pid" 2>/dev/null || note "leader failover: note: cp -a ended before the kill"

  bash "$ROOT_DIR/scripts/node.sh" kill "$n"
  local t0 i=0
  t0=$(date +%s%N)
  # Probed in the root, which a mount never holds: a name never asked before goes to the
  # metadata group (in $dir, which this mount made and holds, the mount would answer itself).
  until metadata_answers "$MNT/.failover-probe-$RANDOM-$i"; do
    i=$((i + 1))
    [ $(($(date +%s%N) - t0)) -lt 180000000000 ] || fail "metadata did not answer for 180 s after killing $leader"
    sleep 0.05
  done
  local ms=$((($(date +%s%N) - t0) / 1000000))
  note "leader failover: mount resumed after $((ms / 1000)).$((ms % 1000 / 100)) s (killed $leader)"
  # The stall is the election and the mount noticing the dead connection (8 s of silent
  # heartbeats at most), not a minute of retries.
  [ "$ms" -lt 30000 ] || fail "the mount stalled $((ms / 1000)) s after $leader was killed"

  touch "$SCRATCH/once.stop"
  wait_pid "$ops_pid" 120 "mkdir/rename/rmdir loop across the failover ($(tail -n 3 "$SCRATCH/once.log"))"
  local rounds; rounds=$(cat "$SCRATCH/once.log")
  note "leader failover: $rounds mkdir+rename+rmdir rounds across the kill, none applied twice"
  [ "$rounds" -gt 0 ] || fail "the mkdir/rename loop did no round"
  assert_eq "$(ls "$dir/once" | LC_ALL=C sort | tr '\n' ' ')" "$(seq 1 "$rounds" | sed 's/^/b/' | LC_ALL=C sort | tr '\n' ' ')" "names left by the loop"
  wait_pid "$cp_pid" 600 "cp -a $src"
  wait_pid "$dd_pid" 600 "writing the 300 MiB file"
  drop_caches
  diff -r --no-dereference "$src" "$dir/tree" || fail "tree copied across the failover differs"
  assert_eq "$(sha256sum < "$dir/big")" "$(sha256sum < "$SCRATCH/big300")" "hash of the 300 MiB file"
  local now; now=$(meta_leader) || fail "no metadata leader after the failover"
  [ "$now" != "$leader" ] || fail "$leader still leads after kill -9"

  start_server_and_wait "$n"
  poll_until 180 "the cluster to converge after $leader came back" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
  replicas_correct "$dir/big" "$SCRATCH/big300"
  rm -f "$SCRATCH/big300"
}

cluster3_stopped_server_catches_up() {
  local dir=$MNT/stopped ref=$SCRATCH/stopped i
  mkdir -p "$dir" "$ref"
  for i in $(seq 1 20); do head -c $((i * 40000 + 7)) /dev/urandom > "$ref/f$i"; done
  head -c $((100 << 20)) /dev/urandom > "$ref/big"   # two chunks
  cp "$ref"/* "$dir"/
  sync

  bash "$ROOT_DIR/scripts/node.sh" stop 2
  poll_until 30 "s2 to be down" member_is s2 down
  # While s2 is away: new files, and overwrites of parts of old ones (one across a chunk edge).
  for i in $(seq 21 30); do
    head -c $((i * 50000)) /dev/urandom > "$ref/f$i"
    cp "$ref/f$i" "$dir/f$i"
  done
  patch_both "$ref/f3" "$dir/f3" 1000 5000
  patch_both "$ref/f20" "$dir/f20" 0 4096
  patch_both "$ref/big" "$dir/big" $((CHUNK_SIZE - 100000)) 300000
  patch_both "$ref/big" "$dir/big" $((90 << 20)) 1
  head -c 70000 /dev/urandom | tee -a "$ref/f7" >> "$dir/f7"
  sync
  drop_caches
  diff -r "$ref" "$dir" || fail "content differs while s2 is down"

  start_server_and_wait 2
  drop_caches
  diff -r "$ref" "$dir" || fail "content differs after s2 came back"
  poll_until 120 "0 under-replicated after s2 came back" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
  local p
  for p in "$ref"/*; do replicas_correct "$dir/${p##*/}" "$p"; done
  drop_caches
  diff -r "$ref" "$dir" || fail "content differs after healing"
}

# corrupt_head_copy FILE: breaks the third block of FILE's first chunk on its head replica
# (the one reads try first, so the client meets it) and prints "MEMBER CHUNK_FILE VERSION".
corrupt_head_copy() {
  local f=$1 ino idx ver replicas first n cf
  ino=$(stat -c %i "$f")
  read -r idx ver replicas < <(locate "$f") || fail "shoal locate found no chunk of $f"
  first=${replicas%%,*}
  n=$(server_key "$first")
  cf=$(chunk_file "$n" "$ino" 0)
  [ -f "$cf" ] || fail "no chunk file $cf on $first"
  crc_ok "$cf" || fail "$cf fails its CRC before it was corrupted"
  flip_byte "$cf" $((2 * CRC_BLOCK + 5))
  flip_byte "$cf" $((2 * CRC_BLOCK + 6))
  if crc_ok "$cf" 2>/dev/null; then fail "flipping bytes did not break the CRC of $cf"; fi
  echo "$first $cf $ver"
}

cluster3_corrupt_replica_is_repaired() {
  local f=$MNT/corrupt-replica.bin ref=$SCRATCH/corrupt-replica.bin
  head -c $((4 << 20)) /dev/urandom > "$ref"
  cp "$ref" "$f"
  sync
  local corrupted first cf ver
  corrupted=$(corrupt_head_copy "$f") || exit 1
  read -r first cf ver <<<"$corrupted"

  drop_caches
  cmp "$ref" "$f" || fail "reading past a corrupt replica returned wrong data"
  poll_until 120 "the corrupt copy on $first to be repaired or replaced" \
    copy_out_of_service "$cf" "$f" "$first"
  if copy_repaired "$cf"; then note "corrupt replica: the copy on $first was repaired in place"
  else note "corrupt replica: the copy on $first was replaced on another node"; fi
  poll_until 120 "0 under-replicated after the repair" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
  local ver2; read -r _ ver2 _ < <(locate "$f")
  [ "$ver2" -gt "$ver" ] || fail "chunk version $ver2 did not move past $ver after the bad replica was dropped"
  replicas_correct "$f" "$ref"
  drop_caches
  cmp "$ref" "$f"
}

cluster3_no_quorum_fails_with_errno_then_recovers() {
  mkdir -p "$MNT/quorum"
  echo before > "$MNT/quorum/before"
  bash "$ROOT_DIR/scripts/node.sh" stop 2
  bash "$ROOT_DIR/scripts/node.sh" stop 3
  # One server of three: no metadata quorum. A mutation must fail with an errno after the
  # client's bounded wait (60 s of retries), never hang.
  local t0=$SECONDS err
  if err=$(timeout -s KILL 180 mkdir "$MNT/quorum/during" 2>&1); then
    fail "mkdir succeeded without a metadata quorum"
  fi
  local waited=$((SECONDS - t0))
  note "no quorum: mkdir failed after ${waited} s with: ${err##*: }"
  # ETIMEDOUT: the service did not answer. EAGAIN would tell programs to retry at once.
  case $err in
    *"Connection timed out"*) ;;
    *) fail "mkdir without a quorum failed with [$err], expected ETIMEDOUT" ;;
  esac
  [ "$waited" -lt 170 ] || fail "mkdir without a quorum took ${waited} s"
  start_server_and_wait 2
  start_server_and_wait 3
  mkdir "$MNT/quorum/after" || fail "mkdir failed once the quorum was back"
  assert_eq "$(cat "$MNT/quorum/before")" before "content written before the outage"
  [ ! -e "$MNT/quorum/during" ] || fail "the failed mkdir left a directory behind"
}

# The chunk size is fixed when the cluster is formed: a member restarted with another
# --chunk-size refuses to start, naming both values, and never registers; restarted without the
# flag it takes the cluster's and comes back.
cluster3_settings_a_server_with_another_chunk_size_refuses_to_start() {
  local other=$((CHUNK_SIZE / 2)) log=$SHOAL_RUN/server-3.log mark pid
  bash "$ROOT_DIR/scripts/node.sh" stop 3
  poll_until 30 "s3 to be down" member_is s3 down
  mark=$(wc -l < "$log")
  SHOAL_SERVER_ARGS="$SHOAL_SERVER_ARGS --chunk-size $other" bash "$ROOT_DIR/scripts/node.sh" start 3
  pid=$(cat "$SHOAL_RUN/pids/server-3.pid")
  poll_until 60 "s3 with --chunk-size $other to exit" process_gone "$pid"
  tail -n +"$((mark + 1))" "$log" > "$SCRATCH/refused.log"
  grep -qF -- "s3 refuses to start: --chunk-size $other disagrees with the cluster's chunk size $CHUNK_SIZE" \
    "$SCRATCH/refused.log" || { cat "$SCRATCH/refused.log"; fail "no refusal naming both chunk sizes"; }
  member_is s3 down || fail "s3 is $(member_state s3) although it refused to start"
  start_server_and_wait 3
}

# A mount given a chunk size other than the cluster's refuses (exit 2), naming both; the
# servers' chunk size is the one the suite's mount (no flag) splits files by.
cluster3_settings_a_mount_with_another_chunk_size_refuses() {
  . "$ROOT_DIR/scripts/lib/common.sh"
  local other=$((CHUNK_SIZE * 2)) dir=$SHOAL_RUN/mnt-refused rc=0
  mkdir -p "$dir"
  timeout 120 java -Xmx256m -cp "$(client_classpath)" io.shoalfs.client.ShoalCli mount \
    --chunk-size "$other" "$ETCD_ENDPOINTS" "$dir" > "$SCRATCH/mount-refused.log" 2>&1 || rc=$?
  ! mountpoint -q "$dir" || { fusermount -u "$dir"; fail "the mount with --chunk-size $other mounted"; }
  assert_eq "$rc" 2 "exit status of the refused mount"
  grep -qF -- "--chunk-size $other disagrees with the cluster's chunk size $CHUNK_SIZE" \
    "$SCRATCH/mount-refused.log" || { cat "$SCRATCH/mount-refused.log"; fail "no refusal naming both chunk sizes"; }
}

process_gone() { ! kill -0 "$1" 2>/dev/null; }

inode_count() { status_field "$(cluster_status)" inodes; }
inodes_below() { [ "$(inode_count)" -lt "$1" ]; }

# A mount killed with a file it kept open after removing it: the file (an orphan of its session)
# is freed once the session ends, and a lock it held no longer stands in anyone's way.
cluster3_a_killed_mounts_session_ends_and_frees_its_orphans() {
  . "$ROOT_DIR/scripts/lib/common.sh"
  local other=$SHOAL_RUN/mnt-session
  start_mount client-session "$other" || fail "the second mount did not come up"
  mkdir -p "$other/session"
  head -c 300000 /dev/urandom > "$other/session/kept"
  # Held open by a process on the second mount while its name goes: an orphan of that mount.
  sleep 600 7<"$other/session/kept" &
  local holder=$!
  python3 -c "import fcntl,os,time; fd=os.open('$other/session/locked', os.O_CREAT|os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX); time.sleep(600)" &
  local locker=$!
  poll_until 30 "the lock to be taken" test -e "$other/session/locked"
  sleep 1
  rm "$other/session/kept"
  local before; before=$(inode_count)
  [ -n "$before" ] || fail "shoal status names no inode count"

  kill -KILL "$(cat "$SHOAL_RUN/pids/client-session.pid")"
  kill "$holder" "$locker" 2>/dev/null || true
  stop_mount client-session "$other"
  local t0=$SECONDS
  poll_until 120 "the orphan of the killed mount to be freed" inodes_below "$before"
  note "session: a killed mount's orphan was freed after $((SECONDS - t0)) s"
  # Its lock is gone too: this mount takes it at once.
  python3 -c "import fcntl,os; fd=os.open('$MNT/session/locked', os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX|fcntl.LOCK_NB)" \
    || fail "the killed mount's lock still stands"
}

cluster3_full_restart_keeps_every_byte() {
  local before after
  sync
  before=$(tree_manifest "$MNT")
  [ "$(printf '%s\n' "$before" | wc -l)" -gt 100 ] || fail "manifest too small"
  bash "$ROOT_DIR/scripts/down.sh"
  if mountpoint -q "$MNT"; then fail "still mounted after down.sh"; fi
  bash "$ROOT_DIR/scripts/up.sh" "$MNT"
  after=$(tree_manifest "$MNT")
  diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") || fail "tree changed across the restart"
  poll_until 120 "the cluster to converge after the restart" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
}

# no_file_left FILE...: none of the files exists.
no_file_left() {
  local f
  for f in "$@"; do [ ! -e "$f" ] || return 1; done
}

# chunk_map_forgot INODE: the chunk map has no chunk of INODE.
chunk_map_forgot() { local out; out=$(shoal locate "$1") && [ -z "$out" ]; }

# Removing a replicated file deletes every copy on every server within one reaper period,
# with no help from the orphan collector (cluster_run.sh starts phase three with it off and a
# short --reap-period, REAP_PERIOD).
cluster3_rm_leaves_no_copy_on_any_server() {
  [[ " $SHOAL_SERVER_ARGS " == *" --orphan-period 0 "* ]] \
    || fail "needs the orphan collector off (--orphan-period 0), SHOAL_SERVER_ARGS: $SHOAL_SERVER_ARGS"
  local period=${REAP_PERIOD:?cluster_run.sh sets REAP_PERIOD} dir=$MNT/rm-copies
  local f i ino got idx replicas r cf copies=() inos=()
  # Every server up and placed on (a test before may have just restarted some): each chunk
  # then gets all its replicas. The tests before leave thousands of chunks short of a replica
  # (a leader killed during a tree copy, two servers stopped), which the healer copies at ~50 a
  # second here: measured 120 s was not always enough.
  poll_until 300 "all $MEMBERS servers to be up and every chunk at the factor" \
    cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
  mkdir -p "$dir"
  for i in 1 2 3; do head -c $((i * 300000 + 11)) /dev/urandom > "$dir/f$i"; done
  head -c $((CHUNK_SIZE + 4096)) /dev/urandom > "$dir/big"   # two chunks
  sync
  for f in "$dir"/*; do
    ino=$(stat -c %i "$f")
    inos+=("$ino")
    got=$(locate "$f") || fail "shoal locate $f failed"
    [ -n "$got" ] || fail "no chunk of $f in the chunk map"
    while read -r idx _ replicas; do
      IFS=, read -ra rs <<<"$replicas"
      assert_eq "${#rs[@]}" "$REPLICATION" "replicas of chunk $idx of $f ($replicas)"
      for r in "${rs[@]}"; do
        cf=$(chunk_file "$(server_key "$r")" "$ino" "$idx")
        [ -f "$cf" ] || fail "replica $r of chunk $idx of $f: no file $cf"
        copies+=("$cf")
      done
    done <<<"$got"
  done
  rm -r "$dir"
  local t0=$SECONDS
  # Every server's reaper makes a pass within one period; 10 s more for the pass itself.
  local deadline=$((t0 + period + 10))
  until no_file_left "${copies[@]}"; do
    if [ $SECONDS -ge $deadline ]; then
      for cf in "${copies[@]}"; do [ ! -e "$cf" ] || echo "still on disk: $cf"; done
      fail "copies of removed files left after $((SECONDS - t0)) s (reaper period $period s)"
    fi
    sleep 0.5
  done
  note "rm: all ${#copies[@]} copies of ${#inos[@]} removed files gone from every server after $((SECONDS - t0)) s (reaper period $period s)"
  for ino in "${inos[@]}"; do
    poll_until 10 "the chunk map to forget inode $ino" chunk_map_forgot "$ino"
  done
}

# Needs 4 data nodes and a short --dead-after: cluster4_* run in cluster_run.sh's phase four,
# and this one on the disaggregated cluster too.
cluster4_dead_server_is_replaced() {
  local dir=$MNT/dead ref=$SCRATCH/dead i
  mkdir -p "$dir" "$ref"
  for i in $(seq 1 12); do head -c $((i * 100000 + 3)) /dev/urandom > "$ref/f$i"; done
  head -c $((150 << 20)) /dev/urandom > "$ref/big"   # three chunks
  cp "$ref"/* "$dir"/
  sync
  poll_until 120 "the 4-server cluster to converge" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"

  # The victim holds the first chunk of the big file: it surely has data to lose.
  local victim n
  victim=$(first_holder "$dir/big")
  n=$(server_key "$victim")
  bash "$ROOT_DIR/scripts/node.sh" stop "$n"
  poll_until 30 "$victim to be down" member_is "$victim" down
  poll_until $((DEAD_AFTER + 60)) "$victim to be dead" member_is "$victim" dead
  poll_until 180 "every chunk back at factor $REPLICATION without $victim" cluster_converged $((MEMBERS - 1)) "$MEMBERS" "$(now_ms)"

  for i in $(seq 1 12); do replicas_correct "$dir/f$i" "$ref/f$i" "$victim"; done
  replicas_correct "$dir/big" "$ref/big" "$victim"
  drop_caches
  diff -r "$ref" "$dir" || fail "content differs after $victim died"
}

# overwrite_loop FILE REF STOPFILE: until STOPFILE exists, writes random bytes (1 B to 128 KiB)
# at a random offset of FILE's first chunk, fsync'ed, and the same bytes at the same offset of
# REF, so REF is what every acknowledged write left. Prints the number of rounds; exits 1 at
# the first failed write.
overwrite_loop() {
  local f=$1 ref=$2 stop=$3 i=0 len off patch
  patch=$(mktemp "$SCRATCH/patch.XXXXXX")
  while [ ! -e "$stop" ]; do
    i=$((i + 1))
    len=$(((RANDOM * 32768 + RANDOM) % (128 << 10) + 1))
    off=$(((RANDOM * 32768 + RANDOM) % (CHUNK_SIZE - len)))
    head -c "$len" /dev/urandom > "$patch"
    dd if="$patch" of="$f" bs=128K oflag=seek_bytes seek="$off" conv=notrunc,fsync status=none \
      || { echo "round $i: writing $len bytes at $off failed"; exit 1; }
    dd if="$patch" of="$ref" bs=128K oflag=seek_bytes seek="$off" conv=notrunc status=none
  done
  rm -f "$patch"
  echo "$i"
}

# A writer keeps overwriting a chunk while the healer copies it to a new member: the copy must
# hold every write acknowledged before it counts (each replica's file is compared on disk).
# The chunk is a whole 64 MiB one, so the copy takes long enough for writes to land during it.
cluster4_heal_races_a_writer() {
  local dir=$MNT/race ref=$SCRATCH/race
  mkdir -p "$dir"
  head -c "$CHUNK_SIZE" /dev/urandom > "$ref"
  cp "$ref" "$dir/chunk"
  sync
  poll_until 120 "the 4-server cluster to converge" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"

  local victim n
  victim=$(first_holder "$dir/chunk")
  n=$(server_key "$victim")
  overwrite_loop "$dir/chunk" "$ref" "$SCRATCH/race.stop" > "$SCRATCH/race.log" 2>&1 &
  local writer=$!
  bash "$ROOT_DIR/scripts/node.sh" stop "$n"
  poll_until 30 "$victim to be down" member_is "$victim" down
  poll_until $((DEAD_AFTER + 60)) "$victim to be dead" member_is "$victim" dead
  poll_until 180 "the chunk back at factor $REPLICATION without $victim" cluster_converged $((MEMBERS - 1)) "$MEMBERS" "$(now_ms)"
  touch "$SCRATCH/race.stop"
  wait_pid "$writer" 600 "the overwriting writer ($(tail -n 3 "$SCRATCH/race.log"))"
  note "heal races a writer: $(cat "$SCRATCH/race.log") overwrites while $victim was replaced"

  replicas_correct "$dir/chunk" "$ref" "$victim"
  drop_caches
  cmp "$ref" "$dir/chunk" || fail "the file differs from the writer's record"
}

# A server whose state is lost while the whole cluster is down never registers again: the
# others, restarted, never saw it, and must still count it dead after --dead-after and heal
# its chunks back to the factor on themselves.
cluster4_member_gone_across_restart_is_healed_around() {
  local dir=$MNT/gone ref=$SCRATCH/gone i
  mkdir -p "$dir" "$ref"
  for i in $(seq 1 8); do head -c $((i * 200000 + 5)) /dev/urandom > "$ref/f$i"; done
  cp "$ref"/* "$dir"/
  sync
  poll_until 120 "the 4-server cluster to converge" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"

  # The victim holds the first chunk of f1: it surely has data the others must make up for.
  local victim n
  victim=$(first_holder "$dir/f1")
  n=$(server_number "$victim")
  for i in $(seq 1 "$SERVERS"); do bash "$ROOT_DIR/scripts/node.sh" stop "$i"; done
  rm -rf "${SHOAL_RUN:?}/server-$n"
  for i in $(seq 1 "$SERVERS"); do
    [ "$i" = "$n" ] || bash "$ROOT_DIR/scripts/node.sh" start "$i"
  done
  local t0=$SECONDS
  for i in $(seq 1 "$SERVERS"); do
    [ "$i" = "$n" ] || poll_until 90 "s$i to be up" member_is "s$i" up
  done
  # Nobody lists the victim now; its replicas count as dead once the grace period is over.
  poll_until $((DEAD_AFTER + 180)) "every chunk back at factor $REPLICATION without $victim" \
    cluster_converged 3 3 "$(now_ms)"
  note "member gone across a restart: factor $REPLICATION restored $((SECONDS - t0)) s after the restart (--dead-after $DEAD_AFTER)"
  for i in $(seq 1 8); do replicas_correct "$dir/f$i" "$ref/f$i" "$victim"; done
  drop_caches
  diff -r "$ref" "$dir" || fail "content differs after $victim was lost across the restart"
}
