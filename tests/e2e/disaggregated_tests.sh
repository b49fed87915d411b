# End-to-end tests of the disaggregated topology: metadata servers m1..mM, data nodes d1..dN.
# Sourced by cluster_run.sh, whose disaggregated phase (3 metadata servers, 4 data nodes, a
# short --dead-after) runs the shell tools, disagg_* below, then the fault tests of
# cluster_tests.sh listed here, which name members the way `shoal status` prints them.
# The full restart comes before the data node left dead: after it, restarting heals a whole
# node's chunks again before the cluster counts as converged (minutes here).
DISAGGREGATED_FAULT_TESTS="cluster3_leader_failover cluster3_corrupt_replica_is_repaired
  cluster3_rm_leaves_no_copy_on_any_server cluster3_full_restart_keeps_every_byte
  cluster4_dead_server_is_replaced"

# Each server registers the one role it has; chunks go to data nodes only, and no metadata
# server keeps a chunk file.
disagg_status_lists_metadata_servers_and_data_nodes() {
  local key id
  for key in $(member_keys_here); do
    id=$(server_id "$key")
    member_is "$id" up || fail "$id is [$(member_state "$id")], not up"
    case $id in
      m*) assert_eq "$(member_roles "$id")" metadata "roles of $id" ;;
      d*) assert_eq "$(member_roles "$id")" data "roles of $id" ;;
    esac
  done
  local f=$MNT/disagg-placed ref=$SCRATCH/disagg-placed replicas r
  head -c $((3 << 20)) /dev/urandom > "$ref"
  cp "$ref" "$f"
  sync
  read -r _ _ replicas < <(locate "$f") || fail "shoal locate found no chunk of $f"
  for r in ${replicas//,/ }; do
    [[ $r == d* ]] || fail "a chunk of $f was placed on $r, not a data node ($replicas)"
  done
  replicas_correct "$f" "$ref"
  local stray; stray=$(find "$SHOAL_RUN"/server-m*/ -name '*.chunk' 2>/dev/null | head -n 3)
  [ -z "$stray" ] || fail "a metadata server stores chunk files: $stray"
}

# A data node in the chain of a file being written is killed (-9) mid-stream: the write goes
# on around it (the mount re-places the chunk on the others) and the file reads back whole.
disagg_a_data_node_killed_while_a_large_file_streams() {
  local f=$MNT/disagg-stream ref=$SCRATCH/disagg-stream victim
  head -c $((200 << 20)) /dev/urandom > "$ref"
  dd if="$ref" of="$f" bs=1M conv=fsync status=none &
  local dd_pid=$!
  poll_until 120 "the 200 MiB write to get under way" file_bigger_than "$f" $((8 << 20))
  victim=$(first_holder "$f")
  kill -0 "$dd_pid" 2>/dev/null || note "data node kill: note: the write ended before the kill"
  bash "$ROOT_DIR/scripts/node.sh" kill "$victim"
  wait_pid "$dd_pid" 600 "writing 200 MiB with $victim killed"
  drop_caches
  assert_eq "$(sha256sum < "$f")" "$(sha256sum < "$ref")" "hash of the file written across the kill of $victim"
  start_server_and_wait "$victim"
  poll_until 180 "every chunk at the factor after $victim came back" \
    cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
  replicas_correct "$f" "$ref"
  rm -f "$ref"
}
