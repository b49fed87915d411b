# End-to-end lifecycle tests: stop and start the whole cluster, unmount by signal and by
# fusermount. Sourced by run.sh, which discovers them (lifecycle_N_*) and runs them last, in N order.

client_pid() { cat "$SHOAL_RUN/pids/client.pid"; }

# A manifest of everything under a directory: type, mode, size and content hash of each entry.
tree_manifest() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
    if [ -L "$p" ]; then echo "L $p -> $(readlink "$p")"
    elif [ -d "$p" ]; then echo "D $p $(stat -c %a "$p")"
    else echo "F $p $(stat -c '%a %s' "$p") $(sha256sum < "$p" | cut -c1-64)"; fi
  done)
}

lifecycle_1_restart_keeps_every_byte() {
  mkdir -p "$MNT/keep/sub"
  for i in $(seq 1 50); do head -c $((i * 1531)) /dev/urandom > "$MNT/keep/f$i"; done
  head -c $((70 * 1024 * 1024)) /dev/urandom > "$MNT/keep/sub/big"
  ln -s f1 "$MNT/keep/link"
  ln "$MNT/keep/f2" "$MNT/keep/sub/hard"
  python3 -c "import os; os.setxattr('$MNT/keep/f3', 'user.k', b'v')"
  sync
  local before after
  before=$(tree_manifest "$MNT")
  [ "$(printf '%s\n' "$before" | wc -l)" -gt 50 ] || fail "manifest too small"
  bash "$ROOT_DIR/scripts/down.sh"
  if mountpoint -q "$MNT"; then fail "still mounted after down.sh"; fi
  for f in "$SHOAL_RUN"/pids/*.pid; do if [ -e "$f" ]; then fail "pid file left: $f"; fi; done
  bash "$ROOT_DIR/scripts/up.sh" "$MNT"
  after=$(tree_manifest "$MNT")
  diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") || fail "tree changed across restart"
  assert_eq "$(python3 -c "import os; print(os.getxattr('$MNT/keep/f3', 'user.k').decode())")" v "xattr after restart"
  # And the restarted cluster still takes writes.
  echo after-restart > "$MNT/keep/new"
  assert_eq "$(cat "$MNT/keep/new")" after-restart "write after restart"
}

lifecycle_2_sigterm_unmounts_cleanly() {
  local pid; pid=$(client_pid)
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then fail "client still running 30 s after SIGTERM"; fi
  if mountpoint -q "$MNT"; then fail "still mounted after SIGTERM"; fi
  # Mount again for the next test.
  bash "$ROOT_DIR/scripts/up.sh" "$MNT"
  [ -f "$MNT/keep/new" ] || fail "data missing after remount"
}

lifecycle_3_fusermount_ends_client() {
  local pid; pid=$(client_pid)
  fusermount -u "$MNT"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then fail "client still running 30 s after fusermount -u"; fi
  if mountpoint -q "$MNT"; then fail "still mounted"; fi
  return 0
}
