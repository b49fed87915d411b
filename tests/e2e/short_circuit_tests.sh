# Short-circuit local reads on a converged cluster whose servers share the mount's host
# (cluster3_*, phase three; sourced by cluster_run.sh after cluster_tests.sh, whose helpers it
# uses). The mount answers its counters as the xattr user.shoal.short-circuit of its root:
# "enabled=1 served=N fallbacks=N refused=N opened=N".

# short_circuit_count MOUNTPOINT NAME: one of the mount's short-circuit counters.
short_circuit_count() {
  local figures
  figures=$(getfattr -n user.shoal.short-circuit --only-values "$1" 2>/dev/null) \
    || fail "the mount at $1 answers no short-circuit counters"
  [[ " $figures " =~ \ $2=([0-9]+)\  ]] || fail "no $2 in the counters [$figures]"
  echo "${BASH_REMATCH[1]}"
}

# sc_sha FILE: its sha256 alone.
sc_sha() { local out; out=$(sha256sum "$1") || return 1; echo "${out%% *}"; }

cluster3_short_circuit_reads_are_served_locally() {
  local f=$MNT/sc-local.bin ref=$SCRATCH/sc-local.bin
  head -c $((12 << 20)) /dev/urandom > "$ref"
  cp "$ref" "$f"
  drop_caches
  local served0 fallbacks0
  served0=$(short_circuit_count "$MNT" served)
  fallbacks0=$(short_circuit_count "$MNT" fallbacks)
  assert_eq "$(sc_sha "$f")" "$(sc_sha "$ref")" "content read through short-circuit"
  local served fallbacks
  served=$(short_circuit_count "$MNT" served)
  fallbacks=$(short_circuit_count "$MNT" fallbacks)
  # 12 MiB in reads of at most 1 MiB: every one of them local when nothing races.
  [ $((served - served0)) -ge 12 ] || fail "only $((served - served0)) reads were short-circuit"
  assert_eq "$fallbacks" "$fallbacks0" "fallbacks while reading an untouched file"
  note "short-circuit: $((served - served0)) local reads for 12 MiB"
}

cluster3_short_circuit_corrupt_block_falls_back_and_is_repaired() {
  local f=$MNT/sc-corrupt.bin ref=$SCRATCH/sc-corrupt.bin
  head -c $((4 << 20)) /dev/urandom > "$ref"
  cp "$ref" "$f"
  sync
  # Every server is on this host: the mount reads the head replica locally, and meets the
  # broken block there.
  local corrupted first cf
  corrupted=$(corrupt_head_copy "$f") || exit 1
  read -r first cf _ <<<"$corrupted"
  drop_caches
  local fallbacks0; fallbacks0=$(short_circuit_count "$MNT" fallbacks)
  cmp "$ref" "$f" || fail "a short-circuit read past a corrupt block returned wrong data"
  [ "$(short_circuit_count "$MNT" fallbacks)" -gt "$fallbacks0" ] \
    || fail "the corrupt block on $first never made a short-circuit read fall back"
  # The network read that answered reported the copy: the healer repairs or replaces it.
  poll_until 120 "the corrupt copy on $first to be repaired or replaced" \
    copy_out_of_service "$cf" "$f" "$first"
  poll_until 120 "0 under-replicated after the repair" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
  replicas_correct "$f" "$ref"
  drop_caches
  cmp "$ref" "$f" || fail "content after the repair"
}

cluster3_short_circuit_never_reads_a_stale_replica() {
  local f=$MNT/sc-stale.bin old=$SCRATCH/sc-stale.old new=$SCRATCH/sc-stale.new
  head -c $((3 << 20)) /dev/urandom > "$old"
  head -c $((3 << 20)) /dev/urandom > "$new"
  cp "$old" "$f"
  drop_caches
  cmp "$old" "$f" || fail "first read"   # the mount now holds the first replica's descriptors
  local ino first n cf ver
  ino=$(stat -c %i "$f")
  first=$(first_holder "$f")
  n=$(server_key "$first")
  cf=$(chunk_file "$n" "$ino" 0)
  read -r _ ver _ < <(locate "$f")
  bash "$ROOT_DIR/scripts/node.sh" stop "$n"
  poll_until 60 "$first to be down" member_is "$first" down
  # Overwritten in place while $first is away (no truncate, so chunk 0 stays the same chunk):
  # the chunk moves to a new version without it.
  dd if="$new" of="$f" bs=1M conv=notrunc,fsync status=none || fail "overwrite"
  local ver2; read -r _ ver2 _ < <(locate "$f")
  [ "$ver2" -gt "$ver" ] || fail "the overwrite did not move the chunk past version $ver"
  # The healer copies the chunk back to $first within a pass or two of its return: read again
  # and again from the moment it starts, and count the reads made while its copy was stale
  # both before and after (the server runs: once its socket answers, it must refuse or not be
  # asked).
  bash "$ROOT_DIR/scripts/node.sh" start "$n"
  # Whether the server process runs, checked without a `shoal status` (a JVM start each): the
  # loop must fit between the server's return and the healer's copy, a pass or two.
  local pidfile=$SHOAL_RUN/pids/server-$n.pid
  running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
  local during_stale=0 deadline=$((SECONDS + 90))
  while [ $SECONDS -lt $deadline ] && [ "$during_stale" -lt 5 ]; do
    local before=0
    cmp -s "$old" "$cf" && before=1
    drop_caches
    cmp "$new" "$f" || fail "a read returned bytes of the stale copy on $first"
    if [ "$before" = 1 ] && cmp -s "$old" "$cf" && running; then
      during_stale=$((during_stale + 1))
    elif [ "$before" = 0 ] && ! cmp -s "$old" "$cf"; then
      break # caught up (or replaced): no stale copy left to read
    fi
  done
  [ "$during_stale" -gt 0 ] || fail "no read happened while $first ran with its stale copy"
  note "stale replica: $during_stale reads while $first ran with a stale copy, all current"
  poll_until 90 "$first to be up" member_is "$first" up
}

cluster3_short_circuit_off_reads_over_the_network() {
  local f=$MNT/sc-off.bin ref=$SCRATCH/sc-off.bin other=$SHOAL_RUN/mnt-sc-off
  head -c $((4 << 20)) /dev/urandom > "$ref"
  cp "$ref" "$f"
  . "$ROOT_DIR/scripts/lib/common.sh"
  trap "stop_mount client-sc-off '$other'" EXIT   # unmounted however the test ends (expanded now: the local is gone by then)
  start_mount client-sc-off "$other" --no-short-circuit || fail "the mount without short-circuit did not come up"
  drop_caches
  cmp "$ref" "$other/sc-off.bin" || fail "content read over the network"
  local figures; figures=$(getfattr -n user.shoal.short-circuit --only-values "$other" 2>/dev/null)
  [[ $figures == "enabled=0 served=0 fallbacks=0 refused=0 opened=0" ]] \
    || fail "a mount with short-circuit off counted [$figures]"
}
