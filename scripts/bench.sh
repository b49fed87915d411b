#!/usr/bin/env bash
# ShoalFS against MooseFS and a local directory, in one run, with the same workloads.
#   scripts/bench.sh [SIZE_MB]        (SIZE_MB: fio file size, default 1024 as in fsbench)
# Runs ../shared/bench/fsbench.sh BENCH_ROUNDS times (default 2) on each system, interleaved
# (shoal, mfs, local, shoal, mfs, local, ...), so that a machine that slows down or speeds up
# during the run weighs on every system alike. Each ShoalFS round brings up 3 servers
# (replication 3, via up.sh, with its own run dir and ports), each MooseFS round a master and
# 3 chunkservers (goal 3, ../shared/peers/moosefs.sh); both are torn down after their round.
# Keeping them up between rounds would not be fair: the idle system would hold memory and
# threads while the other one is measured, and ShoalFS's JVMs would start later rounds with
# their code already compiled while MooseFS (native code) gains nothing from it. Torn down,
# every round of every system starts from the same state: fresh processes, an empty store.
# Prints one table (per metric: each system's mean over the rounds with its spread, +-half the
# range as a percentage of the mean, and the ShoalFS/MooseFS ratio of means), then each round's
# figures, and writes both, with the exact command, into BENCHMARKS.md. Whatever it started is
# stopped on exit, failure included.
#
# Environment: SHOAL_BASE_PORT (default 9600), SHOAL_SHARED (default ../shared),
# BENCH_ROUNDS (default 2), BENCH_TARGETS (default "shoal mfs local"; a subset for quick
# iterations, not for the record), BENCH_NO_RECORD=1 to leave BENCHMARKS.md alone.
set -euo pipefail
size=${1:-1024}
[[ $size =~ ^[0-9]+$ ]] || { echo "usage: bench.sh [SIZE_MB]" >&2; exit 2; }
rounds=${BENCH_ROUNDS:-2}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROUNDS must be a positive number, not '$rounds'" >&2; exit 2; }
# Own run dir and ports, set before common.sh derives every path and port from them.
work=$(mktemp -d /tmp/bench-XXXXXX)
export SHOAL_RUN=$work/shoal SHOAL_BASE_PORT=${SHOAL_BASE_PORT:-9600}
. "$(dirname "$0")/lib/common.sh"

shared=${SHOAL_SHARED:-$SHOAL_ROOT/../shared}
[ -f "$shared/bench/fsbench.sh" ] || { rmdir "$work"; die "no $shared/bench/fsbench.sh"; }
shared=$(cd "$shared" && pwd)
targets=${BENCH_TARGETS:-shoal mfs local}
command="${SHOAL_SKIP_BUILD:+SHOAL_SKIP_BUILD=$SHOAL_SKIP_BUILD }${BENCH_ROUNDS:+BENCH_ROUNDS=$rounds }${BENCH_TARGETS:+BENCH_TARGETS=\"$targets\" }bash scripts/bench.sh${1:+ $1}"

export MFS_BASE=$work/mfs
shoal_mnt=$work/shoal-mnt mfs_mnt=$work/mfs-mnt local_dir=$work/local
mfs_up=0 shoal_up=0 ticker=""
cpu_pids=$work/cpu-pids
# Every figure of every round, one "system round metric value" line each: the table's input.
results=$work/results
: > "$results"
declare -A LOAD

say() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

cleanup() {
  set +e
  [ -n "$ticker" ] && kill "$ticker" 2>/dev/null
  if [ $shoal_up = 1 ]; then say "stopping ShoalFS"; bash "$SHOAL_ROOT/scripts/down.sh" >/dev/null 2>&1; fi
  if [ $mfs_up = 1 ]; then say "stopping MooseFS"; bash "$shared/peers/moosefs.sh" down "$mfs_mnt" >/dev/null 2>&1; fi
  if mountpoint -q "$shoal_mnt" 2>/dev/null || mountpoint -q "$mfs_mnt" 2>/dev/null; then
    say "a mount under $work is still there: left in place"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The fsbench workload running in $1 now (fsbench prints only at the end): fio, small, md,
# tree, or other. Existence checks only: a listing would add work to what is measured.
workload() {
  local w
  for w in "$1"/fsbench.*; do
    [ -d "$w" ] || continue
    if [ -e "$w/seq" ]; then echo fio; return
    elif [ -d "$w/small" ]; then echo small; return
    elif compgen -G "$w/mdbench.*" >/dev/null; then echo md; return
    elif [ -d "$w/tree" ]; then echo tree; return
    fi
  done
  echo other
}

# CPU time (user + system, clock ticks) the file system's processes used so far: the pids
# listed in $cpu_pids (a file, rewritten by the target once its processes run).
fs_cpu_ticks() {
  local p t=0
  for p in $(cat "$cpu_pids" 2>/dev/null); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $t
}

# Every 2 s: the CPU the file system used since the last look, added to the workload running
# (in $work/cpu.KEY.WORKLOAD); every 20 s, which one runs and for how long.
progress() {
  local dir=$1 name=$2 key=$3 start=$SECONDS phase before now n=0
  before=$(fs_cpu_ticks)
  while sleep 2; do
    phase=$(workload "$dir")
    now=$(fs_cpu_ticks)
    echo $((now - before)) >> "$work/cpu.$key.$phase"
    before=$now
    n=$((n + 1))
    [ $((n % 10)) = 0 ] && say "$name: $((SECONDS - start)) s, $phase"
  done
}

# CPU seconds the file system used during one workload of a run (summed from progress()).
cpu_seconds() {
  local f=$work/cpu.$1.$2
  [ -f "$f" ] || { echo -; return; }
  awk -v hz="$(getconf CLK_TCK)" '{ t += $1 } END { printf "%.1f", t / hz }' "$f"
}

# Operations each workload makes, for its CPU per operation.
workload_ops() {
  case $1 in
    small) echo 4000 ;; # 2000 written + 2000 read
    md) echo $((4000 * 4 + 20000 + 2000)) ;; # mdbench: creates, stats, renames, unlinks; entries listed; mkdirs, rmdirs
    tree) echo $(( $(find /usr/include | wc -l) * 4 )) ;; # entries copied, walked, read, removed
  esac
}

# One figure of round $round: appended to $results.
record() { echo "$1 $round $2 $3" >> "$results"; }

# Runs fsbench on $2 and records its figures, the machine's load and the CPU per operation the
# file system used, under system $1 and the current round.
run_fsbench() {
  local key=$1 dir=$2 name=$3 out metric value w cs load
  say "$name, round $round of $rounds: fsbench $dir ${size} MB"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  progress "$dir" "$name" "$key.$round" & ticker=$!
  out=$(bash "$shared/bench/fsbench.sh" "$dir" "$size") || { kill $ticker; die "fsbench failed on $name"; }
  kill $ticker 2>/dev/null; wait $ticker 2>/dev/null || true; ticker=""
  LOAD[$key]+="${LOAD[$key]:+, }$load / $(cut -d' ' -f1 /proc/loadavg)"
  while read -r metric value _; do
    [[ $metric == \{* || -z $metric ]] && continue
    record "$key" "$metric" "$value"
  done <<<"$out"
  # CPU per operation: the file system's processes' CPU time during each workload, divided by
  # the operations it made (sampled every 2 s, so a workload's edges blur by up to 2 s). Not
  # for the local directory: the kernel's work is no process to count.
  if [ "$key" != local ]; then
    for w in small md tree; do
      cs=$(cpu_seconds "$key.$round" $w)
      [ "$cs" = - ] || record "$key" "cpu_${w}_ms_per_op" "$(python3 -c "print('%.2f' % ($cs * 1000 / $(workload_ops $w)))")"
    done
  fi
  say "$name, round $round done: $(grep '^{' <<<"$out")"
}

# Peak resident set (VmHWM) of a pid, in MiB.
peak_mib() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

bench_shoal() {
  say "ShoalFS: 3 servers, replication 3, ports from $SHOAL_BASE_PORT, run dir $SHOAL_RUN"
  mkdir -p "$shoal_mnt"
  shoal_up=1
  # No S3 gateway: it is not measured here, and an idle JVM beside the cluster costs CPU and
  # memory the mount's figures would pay for.
  SHOAL_S3=0 bash "$SHOAL_ROOT/scripts/up.sh" -n 3 "$shoal_mnt"
  cat "$PIDS"/client.pid "$PIDS"/server-*.pid > "$cpu_pids"
  run_fsbench shoal "$shoal_mnt" ShoalFS
  local i max=0 sum=0 v client
  client=$(peak_mib "$(cat "$PIDS/client.pid")")
  for i in 1 2 3; do
    v=$(peak_mib "$(cat "$PIDS/server-$i.pid")"); [ "$v" = "?" ] && continue
    sum=$((sum + v)); [ "$v" -gt $max ] && max=$v
  done
  [ "$client" = "?" ] || { record shoal rss_client_MiB "$client"; sum=$((sum + client)); }
  record shoal rss_server_MiB $max
  record shoal rss_all_MiB $sum
  bash "$SHOAL_ROOT/scripts/down.sh" >/dev/null 2>&1
  shoal_up=0
}

bench_mfs() {
  local waited=0
  while ip netns list 2>/dev/null | grep -qw mfspeer; do
    # Someone else's MooseFS peer runs (the namespace name is fixed): never take it over.
    [ $waited -lt 900 ] || die "a MooseFS peer (netns mfspeer) has been running for 15 min; not starting another"
    [ $((waited % 60)) = 0 ] && say "MooseFS: another peer is running (netns mfspeer); waiting"
    sleep 5; waited=$((waited + 5))
  done
  say "MooseFS: master + 3 chunkservers, goal 3"
  mfs_up=1
  bash "$shared/peers/moosefs.sh" up "$mfs_mnt" 3 >&2
  # Master, chunkservers and the mount: every process of the peer's network namespace.
  ip netns pids mfspeer 2>/dev/null > "$cpu_pids"
  run_fsbench mfs "$mfs_mnt" MooseFS
  local p max=0 sum=0 v
  for p in $(ip netns pids mfspeer 2>/dev/null); do
    v=$(peak_mib "$p"); [ "$v" = "?" ] && continue
    if grep -q mfsmount "/proc/$p/comm" 2>/dev/null; then record mfs rss_client_MiB "$v"
    else [ "$v" -gt $max ] && max=$v; fi
    sum=$((sum + v))
  done
  record mfs rss_server_MiB $max
  record mfs rss_all_MiB $sum
  bash "$shared/peers/moosefs.sh" down "$mfs_mnt" >/dev/null 2>&1
  mfs_up=0
}

bench_local() {
  mkdir -p "$local_dir"
  : > "$cpu_pids" # the kernel's work: not a process to count
  run_fsbench local "$local_dir" "local ($(df --output=fstype "$local_dir" | tail -1))"
}

say "size ${size} MB, targets: $targets, $rounds rounds, work dir $work"
[ "$(id -u)" = 0 ] || die "run as root (mounts, and fsbench drops the page cache)"
for t in $targets; do
  case $t in shoal|mfs|local) ;; *) die "unknown target $t" ;; esac
done
for round in $(seq 1 "$rounds"); do
  for t in $targets; do
    "bench_$t"
  done
done

# ---------------------------------------------------------------------------- the tables
# Rows in order: metric, the direction that wins, its label in the table.
rows=$(
  for m in seq_write_MiBps seq_read_MiBps rand_read_4k_iops small_write_files_per_s small_read_files_per_s \
      md_create_per_s md_stat_per_s md_readdir_entries_per_s md_rename_per_s md_unlink_per_s md_mkdir_per_s \
      md_rmdir_per_s; do
    echo "$m higher $m"
  done
  for m in tree_copy_in_s tree_find_s tree_read_s tree_rm_s; do echo "$m lower $m"; done
  echo "rss_client_MiB lower peak RSS client MiB (VmHWM)"
  echo "rss_server_MiB lower peak RSS largest server MiB"
  echo "rss_all_MiB lower peak RSS all processes MiB"
  echo "cpu_small_ms_per_op lower CPU: small files (2000 written + 2000 read), ms per file"
  echo "cpu_md_ms_per_op lower CPU: metadata (mdbench: 4000 creates, stats, renames, unlinks; 20000 entries listed; 1000 mkdirs, rmdirs), ms per op"
  echo "cpu_tree_ms_per_op lower CPU: tree ($(find /usr/include | wc -l) entries copied, walked, read, removed), ms per entry"
)
tables=$(ROWS=$rows LOAD_shoal=${LOAD[shoal]:-} LOAD_mfs=${LOAD[mfs]:-} LOAD_local=${LOAD[local]:-} \
  python3 "$SHOAL_ROOT/scripts/lib/bench_table.py" "$results")
echo
echo "$tables"
echo

if [ "${BENCH_NO_RECORD:-0}" != 1 ]; then
  out=$SHOAL_ROOT/BENCHMARKS.md
  section=$(
    echo "<!-- bench:begin (written by scripts/bench.sh) -->"
    echo "## Last run"
    echo
    echo "Command: \`$command\` ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB RAM," \
      "commit $(git -C "$SHOAL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
    echo "ShoalFS: 3 servers, replication 3, heaps ${SERVER_HEAP} (server) / ${CLIENT_HEAP} (client), JVM options \`${JAVA_OPTS:-none}\`. MooseFS: 3 chunkservers, goal 3. fsbench size ${size} MB, $rounds rounds interleaved; each cell is the mean of the rounds ± half their range."
    echo
    echo "$tables"
    echo "<!-- bench:end -->"
  )
  [ -f "$out" ] || printf '# Benchmarks\n\n' >"$out"
  SECTION=$section python3 - "$out" <<'PY'
import os, re, sys
path = sys.argv[1]; text = open(path).read(); new = os.environ["SECTION"]
pat = re.compile(r"<!-- bench:begin.*?<!-- bench:end -->", re.S)
text = pat.sub(lambda m: new, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + new + "\n"
open(path, "w").write(text)
PY
  say "table written to $out"
fi
