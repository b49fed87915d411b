# End-to-end tests: ordinary shell tools on the mounted filesystem. Sourced by run.sh.
# Every test works in its own directory under $MNT and checks content, not just exit codes.

test_cp_a_real_tree_then_diff() {
  local src=/usr/include/linux
  [ -d "$src" ] || src=/usr/include
  cp -a "$src" "$MNT/tree"
  diff -r --no-dereference "$src" "$MNT/tree"
  assert_eq "$(find "$MNT/tree" | wc -l)" "$(find "$src" | wc -l)" "file count after cp -a"
  # cp -a keeps modes and mtimes.
  local f; f=$(find "$src" -type f -print -quit)
  assert_eq "$(stat -c '%a %Y' "$MNT/tree/${f#$src/}")" "$(stat -c '%a %Y' "$f")" "mode and mtime of $f"
}

test_cp_a_usr_include_whole() {
  # From a snapshot on local disk: /usr/include itself changes whenever a package is installed,
  # and a copy racing an install would differ for reasons that are not ShoalFS's.
  local src=$SCRATCH/include
  cp -a /usr/include "$src"
  cp -a "$src" "$MNT/include"
  diff -r --no-dereference "$src" "$MNT/include"
  rm -rf "$MNT/include" "$src"
  [ ! -e "$MNT/include" ] || fail "rm -rf left the tree behind"
}

test_tar_in_and_out() {
  mkdir -p "$MNT/tar" "$SCRATCH/tar-out"
  tar -C /usr/include -cf - linux | tar -C "$MNT/tar" -xf -
  diff -r /usr/include/linux "$MNT/tar/linux"
  tar -C "$MNT/tar" -czf "$MNT/tar/linux.tgz" linux
  tar -C "$SCRATCH/tar-out" -xzf "$MNT/tar/linux.tgz"
  diff -r /usr/include/linux "$SCRATCH/tar-out/linux"
  tar -tzf "$MNT/tar/linux.tgz" > "$SCRATCH/tar-list"
  grep -q 'linux/fs.h' "$SCRATCH/tar-list"
}

test_git_init_add_commit_log() {
  mkdir -p "$MNT/repo"
  cd "$MNT/repo"
  git init -q .
  git config user.email e2e@shoalfs.test
  git config user.name e2e
  printf 'hello\n' > README
  mkdir src && seq 1 1000 > src/numbers.txt
  git add -A
  git commit -q -m "first"
  seq 1000 2000 > src/numbers.txt
  git mv README README.md
  git commit -q -am "second"
  assert_eq "$(git log --format=%s | tr '\n' ' ')" "second first " "git log"
  git fsck --strict 2>&1
  assert_eq "$(git show HEAD~1:src/numbers.txt | sha256sum)" "$(seq 1 1000 | sha256sum)" "old blob"
  git status --porcelain | { ! grep -q .; } || fail "worktree not clean"
  git gc -q
  git log --oneline | wc -l | grep -qx 2
}

test_dd_at_offsets_and_truncate() {
  local f=$MNT/dd.bin ref=$SCRATCH/dd.bin
  dd if=/dev/urandom of="$SCRATCH/rand" bs=1M count=3 status=none
  for t in "$f" "$ref"; do
    dd if="$SCRATCH/rand" of="$t" bs=4096 count=100 status=none
    dd if="$SCRATCH/rand" of="$t" bs=1 seek=5000000 skip=77 count=70000 conv=notrunc status=none
    dd if="$SCRATCH/rand" of="$t" bs=65536 seek=3 skip=10 count=5 conv=notrunc status=none
    dd if="$SCRATCH/rand" of="$t" bs=1000 seek=123 count=7 conv=notrunc status=none
    truncate -s 4500000 "$t"
    truncate -s 9000001 "$t"
    dd if="$SCRATCH/rand" of="$t" bs=333 seek=20000 count=5 conv=notrunc status=none
    truncate -s 1234567 "$t"
  done
  assert_eq "$(stat -c %s "$f")" 1234567 "size after truncate"
  cmp "$f" "$ref"
  # Growing by truncate reads zeros, never old bytes.
  truncate -s 100 "$f"; truncate -s 200000 "$f"
  assert_eq "$(tail -c +101 "$f" | tr -d '\0' | wc -c)" 0 "bytes after truncate-up are zeros"
}

test_large_file_spans_chunks() {
  # 200 MiB crosses three 64 MiB chunk boundaries.
  dd if=/dev/urandom of="$SCRATCH/big" bs=1M count=200 status=none
  cp "$SCRATCH/big" "$MNT/big"
  sync
  assert_eq "$(sha256sum < "$MNT/big")" "$(sha256sum < "$SCRATCH/big")" "hash of 200 MiB file"
  # Read across a chunk boundary at an odd offset.
  assert_eq "$(dd if="$MNT/big" bs=1 skip=$((64*1024*1024 - 10)) count=20 status=none | sha256sum)" \
            "$(dd if="$SCRATCH/big" bs=1 skip=$((64*1024*1024 - 10)) count=20 status=none | sha256sum)" "chunk-boundary read"
  rm -f "$SCRATCH/big"
}

test_symlink_and_hardlink() {
  mkdir -p "$MNT/links"
  echo "target-data" > "$MNT/links/target"
  ln -s target "$MNT/links/sym"
  assert_eq "$(readlink "$MNT/links/sym")" target "readlink"
  assert_eq "$(cat "$MNT/links/sym")" target-data "read through symlink"
  [ -L "$MNT/links/sym" ] || fail "not a symlink"
  ln "$MNT/links/target" "$MNT/links/hard"
  assert_eq "$(stat -c %h "$MNT/links/target")" 2 "nlink after ln"
  assert_eq "$(stat -c %i "$MNT/links/hard")" "$(stat -c %i "$MNT/links/target")" "same inode"
  echo more >> "$MNT/links/hard"
  assert_eq "$(cat "$MNT/links/target")" "$(printf 'target-data\nmore')" "write through hard link"
  rm "$MNT/links/target"
  assert_eq "$(stat -c %h "$MNT/links/hard")" 1 "nlink after rm"
  [ ! -e "$MNT/links/sym" ] || fail "dangling symlink should not resolve"
  ln -s /does/not/exist "$MNT/links/dangling"
  assert_eq "$(readlink "$MNT/links/dangling")" /does/not/exist "dangling readlink"
}

test_mv_over_existing_file() {
  mkdir -p "$MNT/mv/sub"
  echo old > "$MNT/mv/b"
  echo new > "$MNT/mv/a"
  mv -f "$MNT/mv/a" "$MNT/mv/b"
  assert_eq "$(cat "$MNT/mv/b")" new "content after mv over"
  [ ! -e "$MNT/mv/a" ] || fail "source still there"
  mv "$MNT/mv/b" "$MNT/mv/sub/c"
  assert_eq "$(cat "$MNT/mv/sub/c")" new "content after mv across dirs"
  mkdir "$MNT/mv/d1" "$MNT/mv/d2"
  touch "$MNT/mv/d1/x"
  mv -T "$MNT/mv/d1" "$MNT/mv/d2"
  [ -f "$MNT/mv/d2/x" ] || fail "dir over empty dir"
  # mv refuses this itself; rename(2) must say EINVAL too.
  mkdir "$MNT/mv/d2/inside"
  assert_fails_with "Invalid argument" \
    python3 -c "import os, sys; os.rename(sys.argv[1], sys.argv[2])" "$MNT/mv/d2" "$MNT/mv/d2/inside/x"
}

test_rm_rf_deep_tree() {
  local d=$MNT/deep p
  p=$d
  for i in $(seq 1 60); do p=$p/level$i; done
  mkdir -p "$p"
  for i in 1 10 30 60; do
    q=$d; for j in $(seq 1 $i); do q=$q/level$j; done
    for k in 1 2 3; do echo "$i-$k" > "$q/f$k"; done
  done
  assert_eq "$(find "$d" -type f | wc -l)" 12 "files in deep tree"
  rm -rf "$d"
  [ ! -e "$d" ] || fail "deep tree still there"
}

test_chmod_touch_visible_in_stat() {
  echo x > "$MNT/perm"
  chmod 0640 "$MNT/perm"
  assert_eq "$(stat -c %a "$MNT/perm")" 640 "mode"
  chmod u+x,g+w "$MNT/perm"
  assert_eq "$(stat -c %a "$MNT/perm")" 760 "mode after symbolic chmod"
  touch -d "2001-02-03 04:05:06.123456789 UTC" "$MNT/perm"
  assert_eq "$(TZ=UTC0 stat -c %y "$MNT/perm" | cut -c1-29)" "2001-02-03 04:05:06.123456789" "mtime ns"
  # Both times at once (utimensat with UTIME_OMIT for one of them is dropped by libfuse2's
  # high-level API before it reaches ShoalFS: see the POSIX issue).
  python3 -c "import os, sys; os.utime(sys.argv[1], ns=(946684799000000001, 981173106123456789))" "$MNT/perm"
  assert_eq "$(stat -c '%X %Y' "$MNT/perm")" "946684799 981173106" "atime and mtime seconds"
  assert_eq "$(python3 -c "import os, sys; s = os.stat(sys.argv[1]); print(s.st_atime_ns, s.st_mtime_ns)" "$MNT/perm")" \
    "946684799000000001 981173106123456789" "atime and mtime nanoseconds"
  chown 1234:5678 "$MNT/perm"
  assert_eq "$(stat -c '%u:%g' "$MNT/perm")" "1234:5678" "owner"
  mkdir "$MNT/permdir"; chmod 1777 "$MNT/permdir"
  assert_eq "$(stat -c %a "$MNT/permdir")" 1777 "sticky dir mode"
}

test_errors_reach_the_caller_as_errno() {
  mkdir "$MNT/err"
  assert_fails_with "File exists" mkdir "$MNT/err"
  touch "$MNT/err/f"
  assert_fails_with "Directory not empty" rmdir "$MNT/err"
  assert_fails_with "No such file or directory" cat "$MNT/err/missing"
  assert_fails_with "Not a directory" ls "$MNT/err/f/x"
  assert_fails_with "Is a directory" sh -c "echo x > '$MNT/err'"
  local long; long=$(printf 'n%.0s' $(seq 1 256))
  assert_fails_with "File name too long" touch "$MNT/err/$long"
  touch "$MNT/err/${long:1}"   # 255 bytes is allowed
  [ -f "$MNT/err/${long:1}" ] || fail "255-byte name"
  assert_fails_with "Not a directory" rmdir "$MNT/err/f"
  assert_fails_with "Is a directory" rm "$MNT/err"
}

test_xattrs() {
  echo x > "$MNT/xa"
  python3 - "$MNT/xa" <<'PY'
import errno, os, sys
p = sys.argv[1]
os.setxattr(p, "user.color", b"blue")
assert os.getxattr(p, "user.color") == b"blue"
os.setxattr(p, "user.empty", b"")
assert sorted(os.listxattr(p)) == ["user.color", "user.empty"], os.listxattr(p)
try:
    os.setxattr(p, "user.color", b"red", os.XATTR_CREATE); raise SystemExit("XATTR_CREATE over existing")
except OSError as e: assert e.errno == errno.EEXIST, e
try:
    os.setxattr(p, "user.nope", b"x", os.XATTR_REPLACE); raise SystemExit("XATTR_REPLACE of missing")
except OSError as e: assert e.errno == errno.ENODATA, e
os.setxattr(p, "user.color", b"red", os.XATTR_REPLACE)
assert os.getxattr(p, "user.color") == b"red"
os.removexattr(p, "user.color")
try:
    os.getxattr(p, "user.color"); raise SystemExit("removed xattr still there")
except OSError as e: assert e.errno == errno.ENODATA, e
big = os.urandom(60000)
os.setxattr(p, "user.big", big)
assert os.getxattr(p, "user.big") == big
PY
}

test_statfs_reports_real_figures() {
  local total free
  read -r total free < <(stat -f -c '%b %f' "$MNT")
  [ "$total" -gt 0 ] || fail "total blocks $total"
  [ "$free" -gt 0 ] && [ "$free" -le "$total" ] || fail "free $free of $total"
  df -h "$MNT" | grep -q shoalfs || fail "df does not list shoalfs"
}

test_append_and_overwrite_via_redirects() {
  : > "$MNT/app"
  for i in $(seq 1 200); do echo "line $i" >> "$MNT/app"; done
  assert_eq "$(wc -l < "$MNT/app")" 200 "lines after appends"
  assert_eq "$(sha256sum < "$MNT/app")" "$(for i in $(seq 1 200); do echo "line $i"; done | sha256sum)" "append content"
  echo replaced > "$MNT/app"
  assert_eq "$(cat "$MNT/app")" replaced "O_TRUNC rewrite"
}

test_corrupt_block_reads_as_eio() {
  dd if=/dev/urandom of="$MNT/corrupt.bin" bs=64K count=4 status=none
  sync
  local ino chunk
  ino=$(stat -c %i "$MNT/corrupt.bin")
  chunk=$(find "$SHOAL_RUN"/server-*/ -name "$(printf '%016x' "$ino").0.chunk" -print -quit)
  [ -n "$chunk" ] || fail "chunk file of inode $ino not found"
  # Flip one byte in the third block on disk.
  printf '\xff' | dd of="$chunk" bs=1 seek=$((2 * 65536 + 5)) conv=notrunc status=none
  printf '\x00' | dd of="$chunk" bs=1 seek=$((2 * 65536 + 6)) conv=notrunc status=none
  echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  assert_fails_with "Input/output error" dd if="$MNT/corrupt.bin" of=/dev/null bs=64K skip=2 count=1 status=none
  # The other blocks still read.
  dd if="$MNT/corrupt.bin" of=/dev/null bs=64K count=2 status=none
}
