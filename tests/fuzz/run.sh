#!/usr/bin/env bash
# tests/fuzz/run.sh — `./build.sh fuzz [SECONDS]`: every libFuzzer target in
# turn (one at a time, under nice -n 19: the machine is shared), each with
# its dictionary, for SECONDS (default 60) or FUZZ_RUNS executions,
# whichever comes first; then a table of executions, executions per second
# (wall and per CPU second: a busy machine starves a niced fuzzer, the
# second figure is the harness's own speed), coverage and corpus size.
#
# Corpora: each target reads the committed seeds tests/fuzz/corpus/<t>/
# (never written) and keeps what it finds in build/fuzz/corpus/<t>/, which
# the next run starts from. FUZZ_SAVE=1 then merges (libFuzzer -merge=1)
# only the inputs that add coverage into tests/fuzz/corpus/<t>/, to review
# and commit: the committed seeds stay small.
#
# A crash, leak, timeout or failed property stops that target (its input
# is kept in build/fuzz/artifacts/<t>/) and makes the script exit 1.
# Env: FUZZ_TARGETS="config uapi" (default: all), FUZZ_RUNS (default: no
# limit), FUZZ_JOBS is not used: one process at a time, by design.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-60}
case $SECS in '' | *[!0-9]*) echo "usage: build.sh fuzz [SECONDS]" >&2; exit 2 ;; esac

bash tests/fuzz/build.sh >/dev/null || { echo "fuzz: build failed (tests/fuzz/build.sh)" >&2; exit 1; }

TARGETS=${FUZZ_TARGETS:-$(for f in tests/fuzz/fuzz_*.c; do t=${f##*/fuzz_}; echo "${t%.c}"; done)}
ROWS=() FAILED=()
for t in $TARGETS; do
	bin=build/fuzz/fuzz_$t
	[ -x "$bin" ] || { FAILED+=("$t (no binary)"); continue; }
	work=build/fuzz/corpus/$t art=build/fuzz/artifacts/$t
	mkdir -p "$work" "$art" "tests/fuzz/corpus/$t"
	args=(-max_total_time="$SECS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
		-artifact_prefix="$art/")
	[ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
	[ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
	log=build/fuzz/$t.log
	echo "fuzz: $t (${SECS} s${FUZZ_RUNS:+ or $FUZZ_RUNS runs}) ..."
	# The work corpus first: new inputs are written there, never to the seeds.
	TIMEFORMAT='%U %S'
	{ time nice -n 19 "$bin" "${args[@]}" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; } 2>"$log.cpu"
	st=$?
	read -r u s <"$log.cpu"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
	cpu=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.1f", u + s}')
	per_cpu=$(awk -v n="${execs:-0}" -v c="$cpu" 'BEGIN {printf "%d", (c > 0 ? n / c : 0)}')
	ROWS+=("$(printf '%-13s %12s %9s %11s %8s  %-22s %6s' "$t" "${execs:-?}" "${eps:-?}" "$per_cpu" "$cpu" "${cov:-?}" \
		"$(find "$work" -type f | wc -l)")")
	if [ $st -ne 0 ]; then
		FAILED+=("$t")
		echo "fuzz: $t FAILED (exit $st), input kept in $art/:"
		grep -E 'ERROR|fuzz property|SUMMARY|^    #[0-9]' "$log" | head -n 25
	elif [ "${FUZZ_SAVE:-0}" = 1 ]; then
		nice -n 19 "$bin" -merge=1 "tests/fuzz/corpus/$t" "$work" >"$log.merge" 2>&1 ||
			echo "fuzz: $t merge failed (see $log.merge)"
	fi
done

echo
printf '%-13s %12s %9s %11s %8s  %-22s %6s\n' target executions "exec/s" "exec/cpu-s" "cpu s" coverage corpus
printf '%s\n' "${ROWS[@]}"
[ "${FUZZ_SAVE:-0}" = 1 ] && echo "(coverage-adding inputs merged into tests/fuzz/corpus/: review, then commit)"
if [ ${#FAILED[@]} -ne 0 ]; then
	echo "fuzz: failed: ${FAILED[*]}"
	exit 1
fi
