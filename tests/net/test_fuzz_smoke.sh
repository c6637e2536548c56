#!/usr/bin/env bash
# tests/net/test_fuzz_smoke.sh — a short run of every libFuzzer target in
# tests/fuzz/ (it needs no namespaces; it sits here because build.sh runs
# the scripts of this directory).
#
# Builds the fuzzers with clang (tests/fuzz/build.sh; clang-14 and
# libclang-rt-14-dev are installed with apt-get when missing), then for
# each target tests/fuzz/fuzz_<t>.c, counted as one check:
#   - every saved reproducer tests/fuzz/crashes/<t>-* must now run clean
#     (a crash found earlier stays fixed);
#   - the seed corpus tests/fuzz/corpus/<t>/ and FUZZ_RUNS (20000) mutated
#     inputs, at most FUZZ_TIME (15) seconds, must run clean: no sanitizer
#     report, no leak, no timeout (10 s per input), no failed property.
# New corpus entries go to a temporary directory; the committed corpus is
# never written. A failure prints the end of libFuzzer's log (the stack)
# and keeps the input under build/fuzz/artifacts/<t>/.
#
# The mutation seed is fixed (FUZZ_SEED, default 1) so a run is
# repeatable; set FUZZ_SEED=0 for a random one. FUZZ_TARGETS="stun disco"
# runs only those. Whole script: well under 2.5 minutes on 2 cores.
# Last line: "N passed, M failed".
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1

RUNS=${FUZZ_RUNS:-20000}
TIME=${FUZZ_TIME:-15}
SEED=${FUZZ_SEED:-1}
PASSED=0
FAILED=0
WORK=$(mktemp -d /tmp/wm-fuzz-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
summary() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit; }

# --- clang with the libFuzzer and sanitizer runtimes -----------------------

have_clang() {
	local cc
	cc=$(command -v clang || command -v clang-14) || return 1
	echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
		"$cc" -x c -fsanitize=fuzzer,address,undefined -o "$WORK/probe" - \
			>/dev/null 2>&1
}

if ! have_clang; then
	echo "installing clang-14 libclang-rt-14-dev"
	export DEBIAN_FRONTEND=noninteractive
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
		clang-14 libclang-rt-14-dev >/dev/null; } || ! have_clang; then
		fail "clang-14 with the libFuzzer runtime is missing and could not be installed"
		summary
	fi
fi

# --- build -----------------------------------------------------------------

if ! bash tests/fuzz/build.sh >"$WORK/build.log" 2>&1; then
	fail "tests/fuzz/build.sh"
	tail -n 40 "$WORK/build.log" | sed 's/^/    | /'
	summary
fi

# --- run -------------------------------------------------------------------

# "cov: N ... corp: N/..." and "Done N runs in S second(s)" from a log
stats() {
	local runs cov corp
	runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$1" | tail -n1)
	cov=$(grep -Eo 'cov: [0-9]+' "$1" | tail -n1)
	corp=$(grep -Eo 'corp: [0-9]+' "$1" | tail -n1)
	echo "${runs:-no summary}s, ${cov:-cov: ?}, ${corp:-corp: ?}"
}

# keep_artifacts TARGET DIR — crash inputs out of the temporary directory
keep_artifacts() {
	local f keep="build/fuzz/artifacts/$1"
	for f in "$2"/crash-* "$2"/leak-* "$2"/timeout-* "$2"/oom-*; do
		[ -e "$f" ] || continue
		mkdir -p "$keep" && cp "$f" "$keep/" && echo "    input kept: $keep/$(basename "$f")"
	done
}

# A pointer into a returned stack frame is a bug ASan only sees with this.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_stack_use_after_return=1

run_target() { # TARGET
	local t=$1 bin="build/fuzz/fuzz_$1" w="$WORK/$1" st=0 f repro=()
	local dict=() seed=()
	mkdir -p "$w/new" "$w/art"
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	[ "$SEED" != 0 ] && seed=(-seed="$SEED")

	for f in tests/fuzz/crashes/"$t"-*; do
		[ -f "$f" ] && repro+=("$f")
	done
	if [ ${#repro[@]} -gt 0 ]; then
		timeout -k 5 60 "$bin" -timeout=10 -artifact_prefix="$w/art/" \
			"${repro[@]}" >"$w/repro.log" 2>&1 || st=$?
		if [ "$st" -ne 0 ]; then
			fail "fuzz_$t: a saved reproducer still fails (exit $st)"
			grep -E '^Running: ' "$w/repro.log" | tail -n1 | sed 's/^/    | /'
			grep -E 'ERROR|SUMMARY|#[0-9]+ 0x|property failed' "$w/repro.log" |
				head -n 20 | sed 's/^/    | /'
			return
		fi
	fi

	timeout -k 5 $((TIME + 45)) "$bin" -runs="$RUNS" -max_total_time="$TIME" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$w/art/" "${seed[@]}" "${dict[@]}" \
		"$w/new" "tests/fuzz/corpus/$t" >"$w/fuzz.log" 2>&1 || st=$?
	if [ "$st" -eq 0 ]; then
		pass "fuzz_$t ($(stats "$w/fuzz.log"))"
	else
		fail "fuzz_$t (exit $st; $(stats "$w/fuzz.log"))"
		grep -vE '^#[0-9]+ +(NEW|REDUCE|pulse)|^INFO:|Uses: ' "$w/fuzz.log" |
			tail -n 40 | sed 's/^/    | /'
		keep_artifacts "$t" "$w/art"
	fi
}

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
	for t in $FUZZ_TARGETS; do targets+=("${t#fuzz_}"); done
else
	for f in tests/fuzz/fuzz_*.c; do
		t=${f##*/fuzz_}
		targets+=("${t%.c}")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -x "build/fuzz/fuzz_$t" ]; then
		fail "fuzz_$t: not built"
		continue
	fi
	run_target "$t"
done
summary
