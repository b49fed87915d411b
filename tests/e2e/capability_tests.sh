# End-to-end tests of directory capabilities and the metadata journal, on real mounts of a
# 3-server cluster (sourced by cluster_run.sh; discovered as cluster3_*). A directory a mount
# makes is held by that mount: its namespace work is answered locally and journaled; a second
# mount's access recalls it first. What these show: what the second mount sees, what a killed
# holder loses, and that a leader kill under a capability-backed copy loses nothing.

# caps_second_mount NAME: the second mount of these tests, at $SHOAL_RUN/mnt-NAME.
# Unmounted when the test's subshell exits, failed or not.
caps_second_mount() {
  . "$ROOT_DIR/scripts/lib/common.sh"
  OTHER=$SHOAL_RUN/mnt-$1
  trap "caps_stop_second_mount $1" EXIT
  start_mount "client-$1" "$OTHER" || fail "the second mount did not come up"
}

caps_mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }

caps_stop_second_mount() {
  . "$ROOT_DIR/scripts/lib/common.sh"
  stop_mount "client-$1" "$SHOAL_RUN/mnt-$1"
}

# One mount copies a tree and writes numbered files into a directory it holds, logging each
# file after its close; the other lists and reads meanwhile: every file logged before a pass
# began is there with its content, and the copy is whole at the end.
cluster3_caps_second_mount_sees_every_file_closed_before_it_looked() {
  caps_second_mount caps-see
  local dir=$MNT/caps-see log=$SCRATCH/caps-see.closed
  mkdir "$dir" && : > "$log"
  cp -a /usr/include/linux "$dir/linux" &
  local copier=$!
  ( for i in $(seq 1 400); do
      printf 'file %s\n' "$i" > "$dir/f$i" || exit 1
      echo "f$i" >> "$log"
    done ) &
  local writer=$!
  local passes=0 seen f
  while kill -0 "$writer" 2>/dev/null || kill -0 "$copier" 2>/dev/null; do
    seen=$(cat "$log")
    ls "$OTHER/caps-see" > /dev/null || fail "listing on the second mount failed"
    ls -R "$OTHER/caps-see/linux" > /dev/null 2>&1 || true
    for f in $seen; do
      [ "$(cat "$OTHER/caps-see/$f" 2>&1)" = "file ${f#f}" ] \
        || fail "$f was closed before the pass began but the second mount reads [$(cat "$OTHER/caps-see/$f" 2>&1)]"
    done
    passes=$((passes + 1))
  done
  wait "$writer" || fail "the writer failed"
  wait "$copier" || fail "cp -a failed"
  note "capabilities: $passes passes of the second mount during the copy"
  [ "$passes" -ge 2 ] || fail "only $passes passes ran during the copy"
  diff -r --no-dereference /usr/include/linux "$OTHER/caps-see/linux" \
    || fail "the second mount does not see the copy whole"
  assert_eq "$(ls "$OTHER/caps-see" | grep -c '^f')" 400 "files seen by the second mount"
}

# Every kind of access from a second mount to a directory the first one holds: each sees the
# holder's work, and the holder goes on working there afterwards.
cluster3_caps_every_conflicting_access_from_a_second_mount() {
  caps_second_mount caps-kinds
  local kind d o
  for kind in lookup readdir create unlink rename_in rename_out setattr open; do
    d=$MNT/caps-$kind; o=$OTHER/caps-$kind
    mkdir "$d" && printf 'written by the holder\n' > "$d/f" && mkdir "$d/sub" \
      || fail "$kind: the holder could not set up"
    case $kind in
      lookup) stat "$o/f" > /dev/null || fail "lookup: the second mount cannot see f"
              [ -d "$o/sub" ] || fail "lookup: no sub on the second mount" ;;
      readdir) assert_eq "$(ls "$o" | tr '\n' ' ')" "f sub " "readdir on the second mount" ;;
      create) echo other > "$o/new" || fail "create on the second mount failed"
              assert_eq "$(cat "$d/new")" other "the holder reads the other mount's file" ;;
      # The holder has given the directory back: like any mount, it sees another's removal
      # once its path and attribute caches (2 s, 1 s) let go, and at once on an open.
      unlink) rm "$o/f" || fail "unlink on the second mount failed"
              cat "$d/f" 2>/dev/null && fail "the holder still opens the removed file"
              poll_until 5 "the holder to stop seeing the removed file" test ! -e "$d/f" ;;
      rename_in) echo moved > "$OTHER/caps-in-src" && mv "$OTHER/caps-in-src" "$o/in" \
                   || fail "rename into the held directory failed"
                 assert_eq "$(cat "$d/in")" moved "the holder reads the renamed-in file" ;;
      rename_out) mv "$o/f" "$OTHER/caps-out-dst" || fail "rename out of the held directory failed"
                  cat "$d/f" 2>/dev/null && fail "the holder still opens the renamed-out file"
                  poll_until 5 "the holder to stop seeing the renamed-out file" test ! -e "$d/f"
                  assert_eq "$(cat "$MNT/caps-out-dst")" "written by the holder" "renamed-out content" ;;
      setattr) chmod 600 "$o/f" || fail "chmod on the second mount failed"
               poll_until 5 "the holder to see mode 600" caps_mode_is "$d/f" 600 ;;
      open) assert_eq "$(cat "$o/f")" "written by the holder" "the second mount reads the holder's file" ;;
    esac
    # The holder goes on working in the directory (now through the servers) and below.
    echo after > "$d/after" && echo deeper > "$d/sub/deeper" || fail "$kind: the holder cannot go on"
    assert_eq "$(cat "$o/after")" after "$kind: the second mount reads the holder's later file"
    assert_eq "$(cat "$o/sub/deeper")" deeper "$kind: the second mount reads the holder's file below"
  done
}

# A mount holding capabilities is killed: the other mount gets into its directory once the
# killed mount's session has expired, every fsynced file is whole, and every other file is
# either whole, absent or empty (a create applied without its data's commit), never in part.
cluster3_caps_killed_holder_loses_at_most_its_unflushed_journal() {
  caps_second_mount caps-kill
  local dir=$OTHER/caps-kill
  mkdir "$dir" || fail "mkdir on the holder failed"
  python3 - "$dir" <<'PY' || fail "the holder's fsynced writes failed"
import os, sys
d = sys.argv[1]
for i in range(60):
    with open(f"{d}/synced{i}", "wb") as f:
        f.write(f"synced {i}\n".encode() * 100)
        f.flush(); os.fsync(f.fileno())
PY
  # Killed while it writes: some of these are still in its journal.
  python3 - "$dir" <<'PY' &
import sys
d = sys.argv[1]
try:
    for i in range(100000):
        with open(f"{d}/loose{i}", "wb") as f:
            f.write(f"loose {i}\n".encode() * 100)
except OSError:
    pass
PY
  local writer=$!
  sleep 1
  kill -KILL "$(cat "$SHOAL_RUN/pids/client-caps-kill.pid")"
  wait "$writer" || true
  local t0=$SECONDS
  ls "$MNT/caps-kill" > /dev/null || fail "the directory of a killed holder stays closed"
  note "capabilities: a killed holder's directory opened after $((SECONDS - t0)) s"
  python3 - "$MNT/caps-kill" <<'PY' || fail "the killed holder's files are not as promised"
import os, sys
d = sys.argv[1]
for i in range(60):
    want = f"synced {i}\n".encode() * 100
    with open(f"{d}/synced{i}", "rb") as f:
        if f.read() != want:
            sys.exit(f"fsynced file synced{i} is not whole")
for name in os.listdir(d):
    if name.startswith("loose"):
        with open(f"{d}/{name}", "rb") as f:
            got = f.read()
        if got and got != f"loose {name[5:]}\n".encode() * 100:
            sys.exit(f"{name} is in part ({len(got)} bytes)")
PY
  note "capabilities: $(ls "$MNT/caps-kill" | grep -c loose) unsynced files written before the kill reached the servers"
}

# The metadata leader is killed while a copy runs in a directory the mount holds: the copy
# completes and is whole (journals resent to the new leader are applied once).
cluster3_caps_leader_kill_during_a_held_copy() {
  local dir=$MNT/caps-leader leader n
  mkdir "$dir" || fail "mkdir failed"
  cp -a /usr/include/linux "$dir/linux" &
  local copier=$!
  sleep 2
  leader=$(meta_leader) || fail "no metadata leader"
  n=${leader#s}
  kill -KILL "$(cat "$SHOAL_RUN/pids/server-$n.pid")"
  wait_pid "$copier" 300 "cp -a across the leader kill"
  diff -r --no-dereference /usr/include/linux "$dir/linux" || fail "the copy differs"
  bash "$ROOT_DIR/scripts/node.sh" start "$n" > /dev/null
  # The chunks written while the leader was down lack its copy: healed before the next test.
  poll_until 240 "the cluster to heal after the leader kill" cluster_converged "$MEMBERS" "$MEMBERS" "$(now_ms)"
}

# A tree one mount made is changed by another after the first gave its directories back (at
# its unmount): the mount working there takes each existing directory at its first change in
# it, so its rm -rf and its tar x into the tree cost a few log entries per directory, not one
# per file (each mutation through the servers is an entry of its own), and a third mount sees
# exactly the result. (A journal goes every 20 ms while work goes on, so the count of entries
# follows the time taken too; through the servers it could not be below one per removal, two per
# file extracted.)
cluster3_caps_existing_directories_are_taken_by_the_mount_working_there() {
  local maker=caps-take-maker
  ( caps_second_mount "$maker"
    mkdir "$OTHER/caps-take" || fail "mkdir failed"
    python3 - "$OTHER/caps-take" <<'PY' || fail "making the tree failed"
import os, sys
b = sys.argv[1]
for d in range(20):
    os.mkdir(f"{b}/d{d}")
    for i in range(100):
        with open(f"{b}/d{d}/f{i}", "w") as f:
            f.write(f"{d}/{i}\n")
PY
  ) || fail "the mount that made the tree failed"
  local base=$MNT/caps-take src=$SCRATCH/caps-take-src before used d i
  before=$(status_field "$(cluster_status)" "metadata log index")
  [ -n "$before" ] || fail "status shows no metadata log index"
  rm -rf "$base"/d{0..9} || fail "rm -rf in the existing tree failed"
  used=$(( $(status_field "$(cluster_status)" "metadata log index") - before ))
  note "capabilities: rm -rf of 1000 files in 10 existing directories took $used log entries"
  [ "$used" -lt 500 ] || fail "rm -rf took $used log entries for 1010 removals"

  for d in $(seq 10 19); do
    mkdir -p "$src/d$d"
    for i in $(seq 0 99); do echo "new $d/$i" > "$src/d$d/new$i"; done
  done
  before=$(status_field "$(cluster_status)" "metadata log index")
  tar -C "$src" -cf - . | tar -C "$base" -xf - || fail "tar x into the existing tree failed"
  used=$(( $(status_field "$(cluster_status)" "metadata log index") - before ))
  note "capabilities: tar x of 1000 files into 10 existing directories took $used log entries"
  [ "$used" -lt 1000 ] || fail "tar x took $used log entries for 1000 files"

  caps_second_mount caps-take-reader
  local seen=$OTHER/caps-take
  assert_eq "$(ls "$seen" | tr '\n' ' ')" "d10 d11 d12 d13 d14 d15 d16 d17 d18 d19 " \
    "what the third mount lists"
  for d in $(seq 10 19); do
    assert_eq "$(ls "$seen/d$d" | wc -l)" 200 "entries of d$d on the third mount"
    assert_eq "$(cat "$seen/d$d/f7")" "$d/7" "an old file of d$d"
    assert_eq "$(cat "$seen/d$d/new42")" "new $d/42" "a new file of d$d"
  done
}

# caps_figure MOUNT NAME: one figure of the mount's capability counters (root xattr
# user.shoal.capabilities, "exclusive=N shared=N shared_answers=N").
caps_figure() {
  local figures
  figures=$(getfattr -n user.shoal.capabilities --only-values "$1" 2>/dev/null) \
    || fail "the mount at $1 answers no capability counters"
  [[ " $figures " =~ \ $2=([0-9]+)\  ]] || fail "no $2 in the counters [$figures]"
  echo "${BASH_REMATCH[1]}"
}

caps_reads() { [ "$(cat "$1")" = "$2" ]; }

# caps_lists_from_its_copy MOUNT DIR: DIR's listing on MOUNT is answered from a shared
# capability's copy (the mount's shared answers grow), not by the servers.
caps_lists_from_its_copy() {
  local before; before=$(caps_figure "$1" shared_answers)
  ls "$2" > /dev/null || return 1
  [ "$(caps_figure "$1" shared_answers)" -gt "$before" ]
}

# A mount that reads a directory again takes its shared capability and answers its listings,
# lookups and file attributes from its copy; every kind of change another mount makes there
# recalls that copy first, so the reader sees each change as soon as the change has returned.
# (Names are checked by listing: the kernel's own entry and attribute caches, 1 s, are not the
# capability's to keep true; attributes are polled for that second.)
cluster3_caps_shared_reader_sees_every_change_at_once() {
  caps_second_mount caps-shared
  local kind d o
  for kind in create unlink rename_in rename_out write chmod rmdir_in chmod_dir; do
    d=$MNT/caps-sh-$kind; o=$OTHER/caps-sh-$kind
    mkdir "$d" && printf 'first\n' > "$d/f" && mkdir "$d/sub" \
      || fail "$kind: the writer could not set up"
    poll_until 30 "$kind: the reader to list the directory from its shared copy" \
      caps_lists_from_its_copy "$OTHER" "$o"
    assert_eq "$(cat "$o/f")" first "$kind: the reader's first read"
    case $kind in
      create) echo new > "$d/new" || fail "create failed"
              assert_eq "$(ls "$o" | tr '\n' ' ')" "f new sub " "the reader's listing after a create" ;;
      unlink) rm "$d/f" || fail "unlink failed"
              assert_eq "$(ls "$o" | tr '\n' ' ')" "sub " "the reader's listing after an unlink" ;;
      rename_in) echo moved > "$MNT/caps-sh-src" && mv "$MNT/caps-sh-src" "$d/in" \
                   || fail "rename in failed"
                 assert_eq "$(ls "$o" | tr '\n' ' ')" "f in sub " "the reader's listing after a rename in"
                 assert_eq "$(cat "$o/in")" moved "the renamed-in file on the reader" ;;
      rename_out) mv "$d/f" "$MNT/caps-sh-out" || fail "rename out failed"
                  assert_eq "$(ls "$o" | tr '\n' ' ')" "sub " "the reader's listing after a rename out" ;;
      write) printf 'second, longer\n' >> "$d/f" || fail "append failed"
             poll_until 2 "the reader to read the file the writer grew" \
               caps_reads "$o/f" "$(printf 'first\nsecond, longer')" ;;
      chmod) chmod 600 "$d/f" || fail "chmod failed"
             poll_until 2 "the reader to see mode 600" caps_mode_is "$o/f" 600 ;;
      rmdir_in) rmdir "$d/sub" || fail "rmdir failed"
                assert_eq "$(ls "$o" | tr '\n' ' ')" "f " "the reader's listing after an rmdir" ;;
      chmod_dir) chmod 700 "$d" || fail "chmod of the directory failed"
                 poll_until 2 "the reader to see the directory's mode 700" caps_mode_is "$o" 700 ;;
    esac
  done
  note "capabilities: the reader's counters at the end: $(getfattr -n user.shoal.capabilities --only-values "$OTHER" 2>/dev/null)"
}
