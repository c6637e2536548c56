#!/usr/bin/env bash
# tests/bench/birthday_runs.sh — issue 14's acceptance for birthday probing:
# cone/symmetric and firewall/symmetric, RUNS (10) fresh worlds each, each
# run direct within 15 s of the agents starting or not. Prints per run the
# time to direct and the probes sent; then successes per case. Not part of
# `./build.sh test` (about 20 s a run); build first (./build.sh build).
#   bash tests/bench/birthday_runs.sh [RUNS]
set -u
cd "$(dirname "$0")/../.."
runs=${1:-10}
for c in cone firewall; do
	cases=$(for _ in $(seq "$runs"); do printf '%s ' "$c"; done)
	out=$(BIRTHDAY_CASES="$cases" bash tests/net/test_birthday.sh 2>&1)
	echo "$out" | grep -E "^(PASS|FAIL): $c/symmetric: (direct|no direct)|side: " | sed 's/^/  /'
	ok=$(echo "$out" | grep -c "^PASS: $c/symmetric: direct")
	echo "$c/symmetric: direct within 15 s in $ok of $runs runs"
done
