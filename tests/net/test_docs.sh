#!/usr/bin/env bash
# tests/net/test_docs.sh — the manual pages against the code (no network).
#
#   packaging/wiremesh.conf.5: every key in the config parsers' tables
#   (agent/config.c interface_keys and peer_keys, agent/relay/config.c
#   relay_keys; any other `{ "Key", parser, ... }` table under agent/) has
#   an entry ("Key = ...") in the section its table belongs to.
#   packaging/wiremesh.8: every command of agent/main.c's table has an entry
#   in COMMANDS, every long option of the getopt tables is named, and every
#   route of api/routes.c is listed under REST API.
#   Both render without groff warnings, and both packages install both.
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "PASS: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }

render() { groff -man -Tutf8 -rLL=200n -rHY=0 -P-cbou "$1" 2>/dev/null; }
for f in packaging/wiremesh.8 packaging/wiremesh.conf.5; do
	w=$(groff -man -ww -z "$f" 2>&1)
	if [ -z "$w" ]; then ok "$f renders without groff warnings"; else bad "$f: $w"; fi
done
MAN5=$(render packaging/wiremesh.conf.5)
MAN8=$(render packaging/wiremesh.8)

# keys TABLE FILE: the key names of one table, in order
keys() {
	awk -v t="$1" '
		$0 ~ "[ \t}]" t "\\[[A-Z_]*\\] = \\{" { on = 1; next }
		on && /^};/ { exit }
		on { while (match($0, /\{ "[A-Za-z][A-Za-z0-9]*",/)) {
			print substr($0, RSTART + 3, RLENGTH - 5); $0 = substr($0, RSTART + RLENGTH) } }' "$2"
}
# The man page's entries ("       Key = ...") under "   [Section] section".
entries() { # SECTION
	awk -v s="   [$1] section" '
		$0 == s { on = 1; next }
		on && /^   [^ ]/ { exit }
		on && /^[^ ]/ { exit }
		on && match($0, /^       [A-Za-z][A-Za-z0-9]* = /) { split(substr($0, 8), a, " "); print a[1] }' <<<"$MAN5"
}
check_table() { # TABLE FILE SECTION
	local k missing=() have n=0
	have=$(entries "$3")
	for k in $(keys "$1" "$2"); do
		n=$((n + 1))
		grep -qx "$k" <<<"$have" || missing+=("$k")
	done
	if [ "$n" -gt 0 ] && [ ${#missing[@]} = 0 ]; then
		ok "wiremesh.conf(5) [$3] has all $n keys of $2 $1"
	else
		bad "wiremesh.conf(5) [$3] lacks keys of $2 $1 (found $n): ${missing[*]}"
	fi
}
check_table interface_keys agent/config.c Interface
check_table peer_keys agent/config.c Peer
check_table relay_keys agent/relay/config.c Relay

# Any other key table under agent/ (a section added since): its keys must
# at least have an entry somewhere in wiremesh.conf(5).
all_entries=$(grep -oE '^       [A-Za-z][A-Za-z0-9]* = ' <<<"$MAN5" | awk '{print $1}')
missing=()
for f in agent/*.c agent/*/*.c; do
	for k in $(grep -oE '^\s*(\[[A-Z_]+\] = )?\{ "[A-Z][A-Za-z0-9]*", [a-z_]+, (0|REPEAT)' "$f" |
		sed -E 's/.*\{ "([^"]*)".*/\1/'); do
		grep -qx "$k" <<<"$all_entries" || missing+=("$f:$k")
	done
done
if [ ${#missing[@]} = 0 ]; then ok "every key of every parser table under agent/ has an entry"
else bad "keys without an entry in wiremesh.conf(5): ${missing[*]}"; fi

# Commands: agent/main.c's table → entries under COMMANDS in wiremesh(8).
cmds=$(grep -oE '^\s*\{ "[a-z][a-z0-9-]*", [a-z_]+, "' agent/main.c | sed -E 's/.*\{ "([^"]*)".*/\1/')
commands_section=$(awk '/^COMMANDS/ { on = 1; next } on && /^[A-Z]/ { exit } on' <<<"$MAN8")
missing=()
n=0
for c in $cmds; do
	n=$((n + 1))
	grep -qE "^       $c( |$)" <<<"$commands_section" || missing+=("$c")
done
if [ "$n" -gt 3 ] && [ ${#missing[@]} = 0 ]; then ok "wiremesh(8) COMMANDS has all $n commands of agent/main.c"
else bad "wiremesh(8) COMMANDS lacks (of $n): ${missing[*]}"; fi
synopsis=$(awk '/^SYNOPSIS/ { on = 1; next } on && /^[A-Z]/ { exit } on' <<<"$MAN8")
missing=()
for c in $cmds; do grep -qE "wiremesh $c( |$)" <<<"$synopsis" || missing+=("$c"); done
if [ ${#missing[@]} = 0 ]; then ok "wiremesh(8) SYNOPSIS shows every command"
else bad "wiremesh(8) SYNOPSIS lacks: ${missing[*]}"; fi

# Long options of every getopt table.
missing=()
for o in $(grep -hoE '\{ "[a-z][a-z-]*", (no|required|optional)_argument' agent/*.c api/*.c |
	sed -E 's/\{ "([^"]*)".*/\1/' | sort -u); do
	[ "$o" = help ] && continue
	grep -qF -- "--$o" <<<"$MAN8" || missing+=("--$o")
done
if [ ${#missing[@]} = 0 ]; then ok "wiremesh(8) names every long option"
else bad "wiremesh(8) lacks options: ${missing[*]}"; fi

# Routes of api/routes.c → wiremesh(8) REST API ("{key}" is written "key").
api_section=$(awk '/^REST API/ { on = 1; next } on && /^[A-Z]/ { exit } on' <<<"$MAN8")
missing=()
n=0
while read -r m p; do
	n=$((n + 1))
	grep -qE "^       $m ${p//\{key\}/key}\$" <<<"$api_section" || missing+=("$m $p")
done < <(grep -oE '^\s*\{ "(GET|PUT|POST|DELETE|PATCH)", "[^"]*"' api/routes.c | sed -E 's/.*"([A-Z]+)", "([^"]*)"/\1 \2/')
if [ "$n" -gt 3 ] && [ ${#missing[@]} = 0 ]; then ok "wiremesh(8) REST API lists all $n routes of api/routes.c"
else bad "wiremesh(8) REST API lacks (of $n): ${missing[*]}"; fi

# Both packages install both pages.
if grep -qx 'build/man/wiremesh.conf.5' packaging/debian/wiremesh.manpages &&
	grep -qx 'build/man/wiremesh.8' packaging/debian/wiremesh.manpages; then
	ok "the deb installs wiremesh.8 and wiremesh.conf.5 (debian/wiremesh.manpages)"
else bad "debian/wiremesh.manpages does not list both pages"; fi
if grep -q '%{_mandir}/man5/wiremesh.conf.5' packaging/rpm/wiremesh.spec &&
	grep -q '%{_mandir}/man8/wiremesh.8' packaging/rpm/wiremesh.spec; then
	ok "the rpm installs wiremesh.8 and wiremesh.conf.5 (wiremesh.spec %files)"
else bad "wiremesh.spec does not list both pages"; fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
