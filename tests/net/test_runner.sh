#!/usr/bin/env bash
# tests/net/test_runner.sh — the suite's own counting cannot be fooled
# (issue 16, "tests that can pass by accident"). It needs no namespaces; it
# sits here because build.sh runs the scripts of this directory.
#
# Fake tests go through `./build.sh run-one NAME CMD...` (build.sh's run_one
# and count_result, exactly as `./build.sh test` runs every test) and must
# count as failed: a script that exits 0 without a summary line, one that
# says "0 passed, 0 failed", one that says "3 passed, 0 failed" but exits 1,
# a unit test binary that is not there (build.sh runs one per
# tests/unit/test_*.c, so a binary that failed to build is this case), and
# one killed by a signal. A good one ("2 passed, 0 failed", exit 0) and one
# reporting a failure must be counted as such. A few seconds.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PASSED=0
FAILED=0
WORK=$(mktemp -d /tmp/wm-runner.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

fake() { # NAME BODY — a script in $WORK
	printf '#!/bin/sh\n%s\n' "$2" >"$WORK/$1.sh"
}
fake silent 'echo "did some things"; exit 0'
fake empty 'echo "0 passed, 0 failed"; exit 0'
fake liar 'echo "3 passed, 0 failed"; exit 1'
fake good 'echo "2 passed, 0 failed"; exit 0'
fake bad 'echo "2 passed, 1 failed"; exit 1'
fake killed 'echo "1 passed, 0 failed"; kill -KILL $$'
fake early 'echo "PASS: one"; exit 0; echo "1 passed, 0 failed"'

# expect WANT NAME CMD... — WANT is ok or FAIL: the runner's verdict line
expect() {
	local want=$1 name=$2 out rc=0
	shift 2
	out=$(TEST_TIMEOUT=20 bash "$TOP/build.sh" run-one "$name" "$@" 2>&1) || rc=$?
	if [ "$want" = ok ] && [ $rc -eq 0 ] && grep -q "^ok    $name" <<<"$out"; then
		pass "$name counts as passed"
	elif [ "$want" = FAIL ] && [ $rc -ne 0 ] && grep -q "^FAIL  $name" <<<"$out" &&
		grep -q '^[0-9]* passed, [1-9][0-9]* failed$' <<<"$out"; then
		pass "$name counts as failed"
	else
		fail "$name: want $want, runner said (exit $rc):"
		sed 's/^/    | /' <<<"$out"
	fi
}

expect FAIL silent bash "$WORK/silent.sh"
expect FAIL empty bash "$WORK/empty.sh"
expect FAIL liar bash "$WORK/liar.sh"
expect FAIL killed bash "$WORK/killed.sh"
expect FAIL early bash "$WORK/early.sh"
expect FAIL missing-unit-binary "$WORK/build/tests/test_gone"
expect FAIL bad bash "$WORK/bad.sh"
expect ok good bash "$WORK/good.sh"

# The suite runs one unit test per source file, so a binary that did not
# build is run (and fails) rather than silently left out.
if grep -q 'for t in tests/unit/test_\*.c' "$TOP/build.sh"; then
	pass "build.sh runs a unit test per tests/unit/test_*.c"
else
	fail "build.sh no longer runs a unit test per source file"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
