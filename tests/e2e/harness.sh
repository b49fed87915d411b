# A tiny test harness for the end-to-end suite. Sourced.
# Each test is a function; run_test runs it in a subshell with `set -e`, so the first failing
# command fails the test, and prints PASS/FAIL with the output of a failing test.
E2E_PASSED=0
E2E_FAILED=0
E2E_FAILED_NAMES=()
E2E_SKIPPED=0

# The test functions whose names start with $1, in name order (so a prefix like
# lifecycle_1_, lifecycle_2_ fixes an order). Every suite discovers its tests this way: a test
# that is written is a test that runs, or is printed as SKIP.
tests_named() { declare -F | awk '{print $3}' | grep "^$1" | LC_ALL=C sort; }

# skip_test NAME REASON: says aloud that a test does not run here, and why.
skip_test() {
  E2E_SKIPPED=$((E2E_SKIPPED + 1))
  printf 'SKIP %-40s (%s)\n' "$1" "$2"
}

run_test() {
  local name=$1 out rc
  local started=$SECONDS
  local log; log=$(mktemp)
  # A plain subshell statement, not inside `&&`/`||`/`$( )`: bash ignores `set -e` there.
  ( set -eEuo pipefail; "$name" ) >"$log" 2>&1
  rc=$?
  out=$(cat "$log"); rm -f "$log"
  if [ $rc -eq 0 ]; then
    E2E_PASSED=$((E2E_PASSED + 1))
    printf 'PASS %-40s %3ss\n' "$name" $((SECONDS - started))
  else
    E2E_FAILED=$((E2E_FAILED + 1))
    E2E_FAILED_NAMES+=("$name")
    printf 'FAIL %-40s %3ss (exit %s)\n' "$name" $((SECONDS - started)) "$rc"
    printf '%s\n' "$out" | tail -n 40 | sed 's/^/    | /'
  fi
}

# fail "message": makes the current test fail with a reason.
fail() { echo "assertion failed: $*" >&2; exit 1; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"; }

# Runs a command that must fail, and checks stderr names the expected error text.
assert_fails_with() {
  local want=$1 err; shift
  if err=$("$@" 2>&1); then fail "'$*' succeeded, expected: $want"; fi
  case $err in *"$want"*) ;; *) fail "'$*' failed with [$err], expected [$want]" ;; esac
}

e2e_summary() {
  echo "e2e: $E2E_PASSED passed, $E2E_FAILED failed, $E2E_SKIPPED skipped"
  [ ${#E2E_FAILED_NAMES[@]} -eq 0 ] || echo "failed: ${E2E_FAILED_NAMES[*]}"
  [ "$E2E_FAILED" -eq 0 ]
}
