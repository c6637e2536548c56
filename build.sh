#!/usr/bin/env bash
# The only entry point: deps | build | test | demo | bench | package.
# The makefile lives here too (fed to make on stdin) so the top level stays
# as DESIGN.md fixes it.
set -euo pipefail
cd "$(dirname "$0")"
TOP=$PWD

BUILD_DEPS="build-essential pkg-config libbearssl-dev libsodium-dev libssl-dev libmicrohttpd-dev
libnl-3-dev libnl-route-3-dev libjansson-dev libcurl4-openssl-dev libnatpmp-dev
libminiupnpc-dev"
TEST_DEPS="wireguard-go wireguard-tools iperf3 nftables iproute2 curl tcpdump faketime
iputils-ping python3 python3-prometheus-client coturn procps openssl
debhelper dpkg-dev fakeroot lintian rpm systemd groff-base clang-14
libclang-rt-14-dev python3-cryptography stun-client miniupnpd-nftables natpmpc miniupnpc
ansible chromium chromium-driver"

need_pkgs() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	printf '%s\n' "${missing[@]}"
}

# Installs the packages of its arguments that are missing.
install_missing() {
	local missing
	missing=$(need_pkgs "$@")
	[ -z "$missing" ] && return 0
	# shellcheck disable=SC2086
	echo "installing: $(echo $missing)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

cmd_deps() {
	# shellcheck disable=SC2086
	install_missing $BUILD_DEPS $TEST_DEPS ${EXTRA_DEPS:-}
}

JOBS=$(nproc 2>/dev/null || echo 2)

# The data path's ChaCha20-Poly1305 and X25519 come from libsodium by
# default (WM_CRYPTO=sodium): measured by ./build.sh bench it keeps the
# agent under 8 MB RSS under load (libcrypto alone maps ~3 MB), does ~3,800
# handshakes/s on one core and leaves the tunnel far above wireguard-go.
# WM_CRYPTO=openssl takes OpenSSL 3's libcrypto (the fastest AEAD here, for
# the most throughput); WM_CRYPTO=bearssl links neither (small systems).
# BearSSL is linked either way (relay TLS).
run_make() {
	make -s -j"$JOBS" -f - ${WM_CRYPTO:+CRYPTO="$WM_CRYPTO"} "$@" <<'MAKEFILE'
OUT     ?= build
SAN     ?=
TIMERS  ?=
CRYPTO  ?= sodium
PKGS    := libmicrohttpd libnl-3.0 libnl-route-3.0 jansson
ifeq ($(CRYPTO),openssl)
CRYPTO_CFLAGS := -DWM_CRYPTO_OPENSSL $(shell pkg-config --cflags libcrypto)
CRYPTO_LIBS   := $(shell pkg-config --libs libcrypto)
else ifeq ($(CRYPTO),sodium)
CRYPTO_CFLAGS := -DWM_CRYPTO_SODIUM $(shell pkg-config --cflags libsodium)
CRYPTO_LIBS   := $(shell pkg-config --libs libsodium)
else ifeq ($(CRYPTO),bearssl)
CRYPTO_CFLAGS := -DWM_CRYPTO_BEARSSL
CRYPTO_LIBS   :=
else
$(error CRYPTO (WM_CRYPTO) must be sodium, openssl or bearssl, not "$(CRYPTO)")
endif
CRYPTO_OTHER  := $(filter-out $(CRYPTO),openssl sodium bearssl)
CFLAGS  := -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -D_GNU_SOURCE \
           -Wformat -Wformat-security -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 \
           -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE \
           -I. -I/usr/include/bearssl $(shell pkg-config --cflags $(PKGS) libcurl) \
           $(CRYPTO_CFLAGS) $(SAN) $(TIMERS)
LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(SAN)
LDLIBS  := -lbearssl $(CRYPTO_LIBS) $(shell pkg-config --libs $(PKGS)) -lnatpmp \
           $(shell pkg-config --libs miniupnpc) -lpthread

LIB_SRC := $(filter-out agent/main.c $(foreach b,$(CRYPTO_OTHER),crypto/%_$(b).c),\
           $(wildcard crypto/*.c agent/*.c agent/*/*.c netif/*.c api/*.c))
# The status page (api/page.html) becomes a C string at build time (a tree
# without one, as the release build_old builds, has nothing to generate).
GEN_OBJ := $(if $(wildcard api/page.html),$(OUT)/obj/gen/page_html.o)
LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/obj/%.o) $(GEN_OBJ)
TESTS   := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/test_*.c))
TOOLS   := $(patsubst tests/tools/%.c,$(OUT)/tests/%,$(wildcard tests/tools/*.c))
# Switching CRYPTO in one OUT rebuilds everything there (the define and
# libwm.a's members change): every object depends on this stamp.
STAMP   := $(OUT)/obj/crypto-$(CRYPTO).stamp

all: $(OUT)/wiremesh $(TESTS) $(TOOLS)

$(STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(OUT)/obj/crypto-*.stamp
	@touch $@

$(OUT)/obj/%.o: %.c $(STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/gen/page_html.c: api/page.html api/gen_page.sh
	@mkdir -p $(dir $@)
	@sh api/gen_page.sh $< $@

$(GEN_OBJ): $(OUT)/gen/page_html.c $(STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libwm.a: $(LIB_OBJ) $(STAMP)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(OUT)/wiremesh: $(OUT)/obj/agent/main.o $(OUT)/libwm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TESTS): $(OUT)/tests/%: $(OUT)/obj/tests/unit/%.o $(OUT)/libwm.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TOOLS): $(OUT)/tests/%: $(OUT)/obj/tests/tools/%.o $(OUT)/libwm.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)
MAKEFILE
}

# Arguments are make targets: `./build.sh build build/wiremesh` makes only
# the binary (the packages' builds); none makes everything.
cmd_build() {
	[ -n "$(need_pkgs $BUILD_DEPS)" ] && cmd_deps
	run_make OUT=build "$@"
	link_wg
}

# `wiremesh-wg IFNAME`: the same binary, chosen by its name (wg-quick's
# WG_QUICK_USERSPACE_IMPLEMENTATION=wiremesh-wg).
link_wg() {
	ln -sfn wiremesh build/wiremesh-wg
}

# Protocol timers shortened for the rekey test; never the shipped binary.
cmd_build_fast_timers() {
	run_make OUT=build/fasttimers TIMERS=-DWM_TEST_FAST_TIMERS
}

cmd_build_san() {
	run_make OUT=build/san SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
}

# Each test prints "N passed, M failed" as its last line; we add them up.
# A test can only pass by saying so: no summary line, a summary of nothing
# ("0 passed, 0 failed"), or a non-zero exit are each one failure, so a
# script that dies early, a guard that skips everything or a missing binary
# never counts green (tests/net/test_runner.sh checks this).
PASSED=0
FAILED=0
FAILED_NAMES=()
count_result() { # name logfile status
	local name=$1 log=$2 st=$3 line p=0 f=0 why=
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1 || true)
	if [ -n "$line" ]; then
		p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	fi
	if [ -z "$line" ]; then why="no summary line"
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then why="nothing was tested"
	elif [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then why="exit status $st"
	fi
	[ -z "$why" ] || [ "$f" -ne 0 ] || f=1
	PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
	if [ "$f" -ne 0 ]; then
		FAILED_NAMES+=("$name")
		echo "FAIL  $name ($p passed, $f failed${why:+; $why})"; sed 's/^/    | /' "$log" | tail -n 40
	else
		echo "ok    $name ($p passed)"
	fi
}

run_one() { # name cmd...
	local name=$1 log st=0 t0=$SECONDS; shift
	log=$(mktemp)
	timeout --kill-after=10 "${TEST_TIMEOUT:-300}" "$@" >"$log" 2>&1 || st=$?
	count_result "$name [$((SECONDS - t0)) s]" "$log" "$st"
	rm -f "$log"
}

# The crypto backends the build does not use (see run_make), for their tests.
other_crypto() {
	local b
	for b in sodium openssl bearssl; do
		[ "$b" = "${WM_CRYPTO:-sodium}" ] || echo "$b"
	done
}

cmd_build_other_crypto() {
	local o
	for o in $(other_crypto); do WM_CRYPTO=$o run_make OUT="build/$o"; done
}

# The agent and relay of the commit before the relay's forwarding frames
# (build/old-BASE/wiremesh), for tests/net/test_relay_upgrade.sh: only the
# binary, built once from `git archive` and kept.
OLD_BASE=f5b8865
cmd_build_old() {
	local dir=$TOP/build/old-$OLD_BASE tmp
	[ -x "$dir/wiremesh" ] && return 0
	# A shallow checkout lacks the release: ask for the history first.
	git -C "$TOP" cat-file -e "$OLD_BASE^{commit}" 2>/dev/null ||
		git -C "$TOP" fetch -q --unshallow 2>/dev/null || true
	git -C "$TOP" cat-file -e "$OLD_BASE^{commit}" 2>/dev/null || {
		echo "build_old: commit $OLD_BASE is not in this checkout" >&2
		return 1
	}
	tmp=$(mktemp -d "$TOP/build/.old-XXXXXX")
	git -C "$TOP" archive "$OLD_BASE" | tar -x -C "$tmp" &&
		(cd "$tmp" && run_make OUT="$tmp/out" "$tmp/out/wiremesh") &&
		mkdir -p "$dir" && mv "$tmp/out/wiremesh" "$dir/wiremesh.$$" &&
		mv "$dir/wiremesh.$$" "$dir/wiremesh"
	local st=$?
	rm -rf "$tmp"
	return $st
}

cmd_test() {
	T_START=$SECONDS
	cmd_deps
	run_make OUT=build
	link_wg
	cmd_build_san
	cmd_build_fast_timers
	cmd_build_other_crypto
	cmd_build_old || echo "build_old failed: net/test_relay_upgrade will fail"
	local t o
	# One run per source file: a binary that failed to appear is a failure.
	for t in tests/unit/test_*.c; do
		t=$(basename "$t" .c)
		run_one "unit/$t" "build/tests/$t"
	done
	for t in tests/unit/test_*.c; do
		t=$(basename "$t" .c)
		ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1 \
			UBSAN_OPTIONS=print_stacktrace=1 \
			run_one "asan+ubsan/$t" "build/san/tests/$t"
	done
	# Every crypto backend passes the same vectors.
	for o in $(other_crypto); do
		for t in aead x25519 golden noise xchacha cookie receive relay_fwd; do
			run_one "$o/test_$t" "build/$o/tests/test_$t"
		done
	done
	run_one vectors/check_constants bash tests/vectors/check_constants.sh
	for t in tests/net/test_*.sh; do
		[ -e "$t" ] || continue
		if [ -n "${TEST_FILTER:-}" ] && [[ $t != *$TEST_FILTER* ]]; then continue; fi
		run_one "net/$(basename "$t" .sh)" bash "$t"
	done
	echo
	[ ${#FAILED_NAMES[@]} -eq 0 ] || echo "failed: ${FAILED_NAMES[*]}"
	echo "suite took $((SECONDS - T_START)) s"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# What tests/net/demo.sh runs (lib.sh, wm.sh, nat_case.sh): checked on its
# own, since a machine with the build dependencies may still lack these.
DEMO_DEPS="nftables iproute2 iputils-ping curl python3 openssl procps coreutils iperf3"

cmd_demo() {
	cmd_build
	# shellcheck disable=SC2086
	install_missing $DEMO_DEPS
	if [ -x tests/net/demo.sh ]; then exec bash tests/net/demo.sh; fi
	echo "demo: not yet (needs the NAT traversal work)"
}

cmd_bench() {
	cmd_deps
	cmd_build
	cmd_build_other_crypto # the crypto figures of every backend
	if [ -e tests/bench/bench.sh ]; then exec bash tests/bench/bench.sh; fi
	echo "bench: not yet"
}

cmd_package() {
	cmd_build
	if [ -e packaging/build-packages.sh ]; then exec bash packaging/build-packages.sh; fi
	echo "package: not yet"
}

# Each security check turned off in turn (in a copy under /tmp) must make
# a test fail; prints "mutation -> caught by". Not part of test (minutes).
cmd_mutate() {
	cmd_build
	exec bash tests/mutate/mutate.sh "$@"
}

# Every fuzz target in turn, SECONDS each (default 60), with its
# dictionary; new corpus entries kept in build/fuzz/corpus/ (FUZZ_SAVE=1
# merges the coverage-adding ones into tests/fuzz/corpus/). Not in test.
cmd_fuzz() {
	[ -n "$(need_pkgs clang-14 libclang-rt-14-dev)" ] && cmd_deps
	exec bash tests/fuzz/run.sh "$@"
}

# A day of rekeys (fast timers), 1% loss, a relay restart and a NAT
# rebinding, 1,000 peers; --short: 40 s under valgrind. Not in test.
cmd_soak() {
	EXTRA_DEPS="conntrack valgrind" cmd_deps
	cmd_build
	cmd_build_fast_timers
	exec bash tests/soak/soak.sh "$@"
}

# run-one NAME CMD...: one command through the suite's runner and counter;
# exits non-zero when it counts as failed (for tests/net/test_runner.sh).
cmd_run_one() {
	run_one "$@"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

case "${1:-build}" in
deps) cmd_deps ;;
build) [ $# -eq 0 ] || shift; cmd_build "$@" ;;
build_old) cmd_build_old ;;
test) cmd_test ;;
demo) cmd_demo ;;
bench) cmd_bench ;;
package) cmd_package ;;
run-one) shift; cmd_run_one "$@" ;;
mutate) shift; cmd_mutate "$@" ;;
fuzz) shift; cmd_fuzz "$@" ;;
soak) shift; cmd_soak "$@" ;;
clean) rm -rf build ;;
*) echo "usage: $0 [deps|build|build_old|test|demo|bench|package|mutate|fuzz [S]|soak [--short]|clean]" >&2; exit 2 ;;
esac
