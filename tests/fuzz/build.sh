#!/usr/bin/env bash
# tests/fuzz/build.sh — builds the libFuzzer targets into build/fuzz/.
#
# The agent's own objects (libwm.a) are built with gcc and hardening flags,
# so the fuzzers compile the same sources again with clang, coverage
# instrumentation and ASan+UBSan: every crypto/, agent/, netif/ and api/
# source except agent/main.c, into build/fuzz/libwm-fuzz.a. No agent code
# is changed or hooked; each target in tests/fuzz/fuzz_*.c calls the very
# functions the agent calls.
#
# Two guards are added at link time. -Wl,--wrap=getaddrinfo sends the
# agent's name lookups (wm_sockaddr_resolve: Endpoint = in a config, the
# relay and STUN addresses) through __wrap_getaddrinfo() in common.c,
# which adds AI_NUMERICHOST. Numeric addresses resolve exactly as before;
# a name fails with EAI_NONAME instead of reaching DNS. (Refusing inputs
# with a letter in the host part would not be enough: glibc hands
# "1.2.3.4.5" or "_" to the resolver too.) Likewise -Wl,--wrap=sendto:
# what the agent code sends is recorded in memory (common.c) and never
# leaves the process, so the harnesses can play the peer and the relay
# and no fuzzed address is ever sent to. Two more for speed (common.h):
# -Wl,--wrap=fopen serves registered paths from memory (the config readers
# run per input without a file write), and --wrap=wm_x25519 remembers
# results for inputs seen before (fixed keys, seeded ephemerals: the same
# scalar multiplications input after input).
#
# Usage: tests/fuzz/build.sh [target...]   (default: all; a target is
#        "config" or "fuzz_config", or gen_corpus, the seed writer)
# Env:   CC (default clang, else clang-14), OUT (default build/fuzz),
#        WM_CRYPTO (sodium, the default, openssl or bearssl: as build.sh; give
#        each its own OUT),
#        FUZZ_CFLAGS (extra flags, e.g. -O2).
set -euo pipefail
cd "$(dirname "$0")/../.."

pick_cc() {
	local c
	for c in ${CC:-} clang clang-14; do
		command -v "$c" >/dev/null 2>&1 && { echo "$c"; return 0; }
	done
	return 1
}
FCC=$(pick_cc) || { echo "fuzz/build.sh: clang not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }

OUT=${OUT:-build/fuzz}
TARGETS=()
for t in "$@"; do
	t=${t##*/}
	case $t in
	gen_corpus) TARGETS+=("$OUT/gen_corpus") ;;
	*) TARGETS+=("$OUT/fuzz_${t#fuzz_}") ;;
	esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(all)

# The crypto backend as in build.sh: sodium unless WM_CRYPTO says otherwise.
CRYPTO=${WM_CRYPTO:-sodium}
case $CRYPTO in
sodium) CRYPTO_PKG=libsodium OTHER="openssl bearssl" ;;
openssl) CRYPTO_PKG=libcrypto OTHER="sodium bearssl" ;;
bearssl) CRYPTO_PKG= OTHER="sodium openssl" ;;
*) echo "fuzz/build.sh: WM_CRYPTO must be sodium, openssl or bearssl" >&2; exit 2 ;;
esac

# The rules below, read once: their hash (with the compiler and flags)
# names a stamp every object depends on, so a change of flags here
# rebuilds the objects instead of leaving ones built the old way (crypto/
# once kept its coverage instrumentation that way, at a third of the
# speed).
MK=$(cat <<'MAKEFILE'
PKGS    := libmicrohttpd libnl-3.0 libnl-route-3.0 jansson libcurl $(CRYPTO_PKG)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
BASE    := -std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE \
           -I. -I/usr/include/bearssl $(shell pkg-config --cflags $(PKGS)) $(SAN) $(EXTRA)
# Agent sources: instrumented for coverage; warnings shown, never fatal
# (clang warns about things gcc does not, and the fuzz build must not
# break on that).
LIBFLAGS := $(BASE) -fsanitize=fuzzer-no-link -Wall -Wextra
# crypto/ (BLAKE2s, HMAC, XChaCha: checked against known answers by the
# unit tests, no parser in there) is built without coverage feedback: its
# compare-heavy rounds would otherwise take most of a handshake's time and
# teach the fuzzer nothing. Still under ASan and UBSan.
CRYPTOFLAGS := $(BASE) -O2 -Wall -Wextra
# Our harnesses: strict.
HFLAGS  := $(BASE) -fsanitize=fuzzer-no-link -Wall -Wextra -Werror -Wshadow \
           -Wno-unused-parameter
LDFLAGS := -fsanitize=fuzzer $(SAN) -Wl,--wrap=getaddrinfo -Wl,--wrap=sendto \
           -Wl,--wrap=fopen -Wl,--wrap=wm_x25519
LDLIBS  := -lbearssl $(shell pkg-config --libs $(PKGS)) -lpthread -ldl

LIB_SRC := $(filter-out agent/main.c $(foreach b,$(OTHER),crypto/%_$(b).c),\
           $(wildcard crypto/*.c agent/*.c agent/*/*.c netif/*.c api/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/obj/%.o) $(OUT)/obj/gen/page_html.o
FUZZERS := $(patsubst tests/fuzz/%.c,$(OUT)/%,$(wildcard tests/fuzz/fuzz_*.c))
COMMON  := $(OUT)/obj/tests/fuzz/common.o

all: $(FUZZERS) $(OUT)/gen_corpus

$(STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(OUT)/obj/rules-*.stamp
	@touch $@

$(OUT)/obj/tests/fuzz/%.o: tests/fuzz/%.c $(STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HFLAGS) -MMD -MP -c $< -o $@

$(OUT)/obj/crypto/%.o: crypto/%.c $(STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CRYPTOFLAGS) -MMD -MP -c $< -o $@

$(OUT)/obj/%.o: %.c $(STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAGS) -MMD -MP -c $< -o $@

# The status page as a C string (api/gen_page.sh, as build.sh does).
$(OUT)/gen/page_html.c: api/page.html api/gen_page.sh
	@mkdir -p $(dir $@)
	@sh api/gen_page.sh $< $@

$(OUT)/obj/gen/page_html.o: $(OUT)/gen/page_html.c $(STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAGS) -c $< -o $@

$(OUT)/libwm-fuzz.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZERS): $(OUT)/%: $(OUT)/obj/tests/fuzz/%.o $(COMMON) $(OUT)/libwm-fuzz.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The seed writer (gen_corpus.c): no fuzzer runtime, just the sanitizers.
$(OUT)/gen_corpus: $(OUT)/obj/tests/fuzz/gen_corpus.o $(OUT)/libwm-fuzz.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)
MAKEFILE
)
STAMP=$OUT/obj/rules-$(printf '%s\n' "$MK" "$FCC" "${FUZZ_CFLAGS:-}" "$CRYPTO" | sha1sum | cut -c1-12).stamp
make -s -j"$(nproc 2>/dev/null || echo 2)" -f - CC="$FCC" OUT="$OUT" STAMP="$STAMP" \
	EXTRA="${FUZZ_CFLAGS:-}" CRYPTO_PKG="$CRYPTO_PKG" OTHER="$OTHER" \
	"${TARGETS[@]}" <<<"$MK"
