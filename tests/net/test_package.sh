#!/usr/bin/env bash
# test_package.sh - packaging acceptance (issue 8).
#
# Builds the .deb and the .rpm from the source tree (packaging/build-packages.sh,
# into a scratch directory), lints the deb, compares both payloads, installs,
# reinstalls, upgrades, removes and purges the deb on this machine, checks the
# systemd units with systemd-analyze, and installs the rpm into a scratch root.
#
# Runs as root on Debian, with or without systemd as PID 1. Maintainer-script
# behaviour under a running systemd (stop on remove, restart on upgrade) is
# checked by running the installed scripts against stand-in systemctl and
# deb-systemd-invoke commands and a stand-in /run/systemd/system path, so the
# machine's own /run is never touched.
#
# Restores the machine: on every exit (failure and timeout included) wiremesh
# is purged and the files and group the test made are removed. The file lists
# of /usr /etc /var/lib /lib/systemd before the install and after the purge
# must be the same.
#
# Environment: WM_PKG_TEST_BUDGET (seconds, default 270), WM_PKG_TEST_CLEAN=0
# to let the package build reuse build/ instead of compiling from nothing.
# Last line: "N passed, M failed".
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUDGET=${WM_PKG_TEST_BUDGET:-270}
PASS=0
FAIL=0
ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
note() { echo "     $*"; }
# check NAME CMD...: one test, passing when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}
has() { grep -qE -- "$2" <<<"$1"; }
hasF() { grep -qF -- "$2" <<<"$1"; }

TMP=$(mktemp -d /tmp/wm-pkgtest.XXXXXX)
CREATED_FILES=()      # operator files this test wrote under /etc/wiremesh
ETC_PREEXISTED=0
GROUP_PREEXISTED=0
[ -e /etc/wiremesh ] && ETC_PREEXISTED=1
getent group wiremesh >/dev/null && GROUP_PREEXISTED=1

installed() {
	dpkg-query -W -f='${Status}' wiremesh 2>/dev/null | grep -qv 'not-installed'
}

cleanup() {
	[ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
	if installed; then
		timeout 60 dpkg --purge wiremesh >/dev/null 2>&1 || note "cleanup: purge failed"
	fi
	local f
	for f in "${CREATED_FILES[@]}"; do rm -f "$f"; done
	if [ "$ETC_PREEXISTED" = 0 ] && [ -d /etc/wiremesh ]; then
		rmdir /etc/wiremesh 2>/dev/null || note "cleanup: /etc/wiremesh not empty, left alone"
	fi
	if [ "$GROUP_PREEXISTED" = 0 ] && getent group wiremesh >/dev/null; then
		groupdel wiremesh 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
on_exit() {
	trap - EXIT TERM INT
	cleanup
	echo "$PASS passed, $FAIL failed"
	if [ "$FAIL" -eq 0 ]; then exit 0; else exit 1; fi
}
trap on_exit EXIT
trap 'bad "time budget of ${BUDGET}s exceeded or interrupted"; exit 1' TERM INT
# Watchdog: TERM to this script after BUDGET seconds; killing it kills its sleep.
(
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep "$BUDGET" &
	s=$!
	wait "$s" && kill -TERM $$
) >/dev/null 2>&1 &
WATCHDOG=$!

# ------------------------------------------------------------------ setup
if [ "$(id -u)" != 0 ]; then
	bad "must run as root"
	exit 1
fi
VERSION=$(sed -n 's/^#define WM_VERSION "\([^"]*\)".*/\1/p' "$TOP/agent/version.h")
DEB_ARCH=$(dpkg --print-architecture)
note "version $VERSION (agent/version.h), dpkg arch $DEB_ARCH"
note "systemctl is-system-running: $(systemctl is-system-running 2>&1 | head -n1)"

missing=()
for tool in dpkg-buildpackage dh rpmbuild rpm lintian systemd-analyze \
	systemd-sysusers groff; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
	bad "tools missing: ${missing[*]} (apt-get install debhelper dpkg-dev fakeroot lintian rpm systemd groff-base)"
	exit 1
fi
RPM_ARCH=$(rpm --eval '%{_arch}')
RPMQ=(rpm --dbpath "$TMP/rpmdb") # never create ~/.rpmdb

if installed; then
	note "wiremesh was installed before the test (left by an aborted run?): purging it"
	timeout 60 dpkg --purge wiremesh >/dev/null 2>&1
	[ -e /etc/wiremesh ] || ETC_PREEXISTED=0
	getent group wiremesh >/dev/null || GROUP_PREEXISTED=0
fi
if [ -e /etc/wiremesh ]; then
	bad "/etc/wiremesh exists and belongs to no package: refusing to install over it"
	exit 1
fi

# ------------------------------------------------------------------ build
note "building packages (clean=${WM_PKG_TEST_CLEAN:-1})"
PKG=$TMP/pkg
if WM_PKG_OUT=$PKG WM_PKG_CLEAN=${WM_PKG_TEST_CLEAN:-1} \
	timeout --kill-after=10 200 bash "$TOP/packaging/build-packages.sh" >"$TMP/build.log" 2>&1; then
	ok "build-packages.sh builds both packages"
else
	bad "build-packages.sh"
	tail -n 40 "$TMP/build.log" | sed 's/^/     | /'
	exit 1
fi
DEB=$PKG/wiremesh_${VERSION}_${DEB_ARCH}.deb
RPM=$PKG/wiremesh-${VERSION}.${RPM_ARCH}.rpm
check "deb is named wiremesh_<ver>_<arch>.deb" test -f "$DEB"
check "rpm is named wiremesh-<ver>.<arch>.rpm" test -f "$RPM"
[ -f "$DEB" ] && [ -f "$RPM" ] || exit 1
check "deb version is agent/version.h's" test "$(dpkg-deb -f "$DEB" Version)" = "$VERSION"
check "rpm version is agent/version.h's" \
	test "$("${RPMQ[@]}" -qp --qf '%{VERSION}' "$RPM" 2>/dev/null)" = "$VERSION"

# ------------------------------------------------------------------ lintian
# lintian leaves an mldbm-elf-* temp file behind: keep it in $TMP.
TMPDIR=$TMP timeout 120 lintian --fail-on error "$DEB" >"$TMP/lintian.log" 2>&1
lint_rc=$?
lint=$(grep -v 'running with root privileges' "$TMP/lintian.log")
note "lintian: ${lint:-(clean)}"
if [ "$lint_rc" = 0 ] && ! has "$lint" '^E: '; then ok "lintian reports no errors"; else bad "lintian errors"; fi

# ------------------------------------------------------------------ metadata
deps=$(dpkg-deb -f "$DEB" Depends)
reqs=$("${RPMQ[@]}" -qpR "$RPM" 2>/dev/null)
note "deb Depends: $deps"
for lib in libbearssl libmicrohttpd libnl-3 libnl-route-3 libjansson libcurl; do
	check "deb depends on $lib" has "$deps" "(^|[ ,])${lib}-?[0-9]"
	check "rpm requires $lib.so" has "$reqs" "^${lib}\\.so"
done
# libsodium (the default crypto backend) is Debian's libsodium23.
check "deb depends on libsodium23" has "$deps" "(^|[ ,])libsodium23"
check "rpm requires libsodium.so" has "$reqs" "^libsodium\\.so"

# Payload: the same files in both, once /lib is /usr/lib and the deb's
# doc and lintian files are set aside.
expected="/etc/wiremesh/relay.conf.example
/etc/wiremesh/wm0.conf.example
/usr/bin/wiremesh
/usr/lib/systemd/system/wiremesh-relay.service
/usr/lib/systemd/system/wiremesh@.service
/usr/lib/sysusers.d/wiremesh.conf
/usr/share/bash-completion/completions/wiremesh
/usr/share/man/man8/wiremesh.8.gz"
deb_list=$(dpkg-deb -c "$DEB")
deb_files=$(awk '$1 !~ /^d/ {print $6}' <<<"$deb_list" | sed -e 's|^\./|/|' -e 's|^/lib/|/usr/lib/|' |
	grep -vE '^/usr/share/(doc|lintian)/' | sort)
# The license goes where each format keeps it (the deb's debian/copyright
# under /usr/share/doc, the rpm's %license under /usr/share/licenses).
rpm_files=$("${RPMQ[@]}" -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$RPM" 2>/dev/null |
	awk '$1 !~ /^d/ {print $2}' | grep -v '^/usr/share/licenses/' | sort)
rpm_license=$("${RPMQ[@]}" -qp --qf '[%{FILENAMES}\n]' "$RPM" 2>/dev/null |
	grep -c '^/usr/share/licenses/wiremesh[^/]*/LICENSE$' || true)
check "rpm ships the license (MIT)" test "$rpm_license" = 1
check "deb's copyright names the license (Expat)" \
	sh -c "dpkg-deb --fsys-tarfile '$DEB' | tar -xOf - ./usr/share/doc/wiremesh/copyright | grep -q '^License: Expat'"
check "deb payload is the expected file set" test "$deb_files" = "$expected"
check "rpm payload is the expected file set" test "$rpm_files" = "$expected"
check "dpkg-deb -c and rpm -qpl list the same payload" test "$deb_files" = "$rpm_files"
[ "$deb_files" = "$expected" ] || diff <(echo "$expected") <(echo "$deb_files") | sed 's/^/     deb| /'
[ "$rpm_files" = "$expected" ] || diff <(echo "$expected") <(echo "$rpm_files") | sed 's/^/     rpm| /'
check "deb: /etc/wiremesh is drwx------" has "$deb_list" '^drwx------ root/root .* \./etc/wiremesh/$'
check "deb: example configs are -rw-------" \
	test "$(grep -cE '^-rw------- root/root .*\.conf\.example$' <<<"$deb_list")" = 2
check "deb: /usr/bin/wiremesh is -rwxr-xr-x" has "$deb_list" '^-rwxr-xr-x root/root .* \./usr/bin/wiremesh$'
conffiles=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles 2>/dev/null | sort)
check "deb conffiles are the two examples" test "$conffiles" = \
	"$(printf '/etc/wiremesh/relay.conf.example\n/etc/wiremesh/wm0.conf.example')"
rpm_flags=$("${RPMQ[@]}" -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM" 2>/dev/null)
check "rpm: examples are %config(noreplace)" \
	test "$(grep -cE '\.conf\.example cn$' <<<"$rpm_flags")" = 2
rpm_scripts=$("${RPMQ[@]}" -qp --scripts "$RPM" 2>/dev/null)
check "rpm: %pre creates the wiremesh group" hasF "$rpm_scripts" "groupadd -r wiremesh"
check "rpm: %preun stops the units on erase" hasF "$rpm_scripts" "stop 'wiremesh@*.service' wiremesh-relay.service"

# ------------------------------------------------------------------ install
snapshot() {
	{
		find /usr /etc /var/lib -xdev 2>/dev/null
		find /lib/systemd/ 2>/dev/null
	} | sort -u
}
snapshot >"$TMP/files.before"

if timeout 120 dpkg -i "$DEB" </dev/null >"$TMP/dpkg.log" 2>&1; then
	ok "dpkg -i installs (systemd running: $([ -d /run/systemd/system ] && echo yes || echo no))"
else
	bad "dpkg -i"
	sed 's/^/     | /' "$TMP/dpkg.log"
	exit 1
fi
check "wiremesh resolves to /usr/bin/wiremesh" test "$(command -v wiremesh)" = /usr/bin/wiremesh
vout=$(timeout 10 /usr/bin/wiremesh version 2>&1)
check "wiremesh version runs and prints $VERSION" hasF "$vout" "wiremesh $VERSION"
has_group() { getent group wiremesh >/dev/null; }
check "group wiremesh exists" has_group
check "/etc/wiremesh is 0700 root:root" test "$(stat -c '%a %U %G' /etc/wiremesh)" = "700 root root"
check "example configs are 0600" test "$(stat -c %a /etc/wiremesh/wm0.conf.example /etc/wiremesh/relay.conf.example | sort -u)" = 600
check "no config is enabled (no /etc/wiremesh/*.conf)" bash -c '! compgen -G "/etc/wiremesh/*.conf" >/dev/null'

# The examples must parse. --check-config is the agent's (and relay's)
# validate-only mode; a bad key must be rejected with exit status 2.
cp /etc/wiremesh/wm0.conf.example "$TMP/wm0.conf"
cp /etc/wiremesh/relay.conf.example "$TMP/relay.conf"
for role in agent relay; do
	f=$TMP/wm0.conf
	[ $role = relay ] && f=$TMP/relay.conf
	out=$(timeout 10 /usr/bin/wiremesh $role --check-config --config "$f" 2>&1)
	st=$?
	if [ $st = 0 ]; then ok "$role example config parses (--check-config)"; else
		bad "$role example config parses: wiremesh $role --check-config exit $st: $(head -n3 <<<"$out")"
	fi
	# Same basename (the agent names its interface after it), other directory.
	mkdir -p "$TMP/bad"
	bad_f=$TMP/bad/$(basename "$f")
	cp "$f" "$bad_f"
	echo "NoSuchKey = 1" >>"$bad_f"
	out=$(timeout 10 /usr/bin/wiremesh $role --check-config --config "$bad_f" 2>&1)
	st=$?
	if [ $st = 2 ] && hasF "$out" "$bad_f" && hasF "$out" NoSuchKey; then
		ok "$role --check-config rejects an unknown key: exit 2, names file and key"
	else
		bad "$role --check-config rejects an unknown key: exit $st: $(head -n3 <<<"$out")"
	fi
done

# Man page: every command, config key and API route.
man_txt=$(zcat /usr/share/man/man8/wiremesh.8.gz | groff -man -Tascii -rLL=250n -rHY=0 -P-cbou 2>/dev/null)
man_warn=$(zcat /usr/share/man/man8/wiremesh.8.gz | groff -man -ww -z 2>&1)
check "man page renders without groff warnings" test -z "$man_warn"
man_missing=()
for w in "wiremesh agent" "wiremesh relay" "wiremesh genkey" "wiremesh pubkey" \
	"wiremesh genpsk" "wiremesh status" "wiremesh peers" "wiremesh path" "wiremesh version" \
	--check-config --json --socket; do
	hasF "$man_txt" "$w" || man_missing+=("$w")
done
for cmd in $(/usr/bin/wiremesh help 2>/dev/null | sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p'); do
	hasF "$man_txt" "wiremesh $cmd" || man_missing+=("wiremesh $cmd (from wiremesh help)")
done
for k in PrivateKey ListenPort Address MTU Relay RelayTCP RelayPublicKey STUN API APIListen \
	APITokenFile APIAllowRemote SaveConfig FwMark PublicKey PresharedKey AllowedIPs Endpoint \
	PersistentKeepalive Path TCPListen TLSCert TLSKey AllowedClients AllowedClientsFile \
	ClientRate MaxClients STUNAltPort PortMapping; do
	has "$man_txt" "(^|[[:space:]])$k = " || man_missing+=("key $k")
done
for s in "[Interface]" "[Peer]" "[Relay]"; do hasF "$man_txt" "$s" || man_missing+=("$s"); done
for r in "GET /v1/status" "GET /v1/peers" "GET /v1/peers/key" "PUT /v1/peers/key/path" \
	"PUT /v1/peers/key" "DELETE /v1/peers/key" "PUT /v1/peers" "GET /v1/events" "GET /metrics"; do
	hasF "$man_txt" "$r" || man_missing+=("route $r")
done
check "man page covers every command, key and route${man_missing:+ (missing: ${man_missing[*]})}" \
	test ${#man_missing[@]} = 0

comp=$(bash -c 'source /usr/share/bash-completion/completions/wiremesh && complete -p wiremesh' 2>&1)
check "bash completion registers for wiremesh" hasF "$comp" "-F _wiremesh"
comp_missing=()
for cmd in $(/usr/bin/wiremesh help 2>/dev/null | sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p') \
	agent relay status peers path; do
	grep -qw -- "$cmd" /usr/share/bash-completion/completions/wiremesh || comp_missing+=("$cmd")
done
check "bash completion knows every command${comp_missing:+ (missing: ${comp_missing[*]})}" \
	test ${#comp_missing[@]} = 0

# ------------------------------------------------------------------ units
AGENT_UNIT=/lib/systemd/system/wiremesh@.service
RELAY_UNIT=/lib/systemd/system/wiremesh-relay.service
for u in "$AGENT_UNIT" "$RELAY_UNIT"; do
	out=$(timeout 60 systemd-analyze verify "$u" 2>&1)
	st=$?
	if [ $st = 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $(basename "$u")"; else
		bad "systemd-analyze verify $(basename "$u") (exit $st)"
		sed 's/^/     | /' <<<"$out"
	fi
done
exposure() { # unit -> the "Overall exposure level" figure
	timeout 60 systemd-analyze security --offline=true "$1" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) \(.*\)/\1 \2/p'
}
for u in "$AGENT_UNIT" "$RELAY_UNIT"; do
	e=$(exposure "$u")
	note "systemd-analyze security $(basename "$u"): ${e:-?}"
	check "$(basename "$u") exposure ${e%% *} <= 4.0 (OK or better)" \
		awk -v e="${e%% *}" 'BEGIN { exit !(e != "" && e + 0 <= 4.0) }'
done
agent_u=$(cat "$AGENT_UNIT")
for d in Type=notify Restart=on-failure 'ExecStart=/usr/bin/wiremesh agent --config /etc/wiremesh/%i.conf' \
	CapabilityBoundingSet=CAP_NET_ADMIN NoNewPrivileges=yes ProtectSystem=strict \
	ProtectHome=yes PrivateTmp=yes 'DeviceAllow=/dev/net/tun rw' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
	'RuntimeDirectory=wiremesh wireguard' RuntimeDirectoryPreserve=yes \
	ReadWritePaths=/etc/wiremesh SystemCallFilter=@system-service Group=wiremesh; do
	check "wiremesh@.service has $d" grep -qxF -- "$d" "$AGENT_UNIT"
done
check "wiremesh@.service has no AmbientCapabilities beyond CAP_NET_ADMIN" \
	bash -c '! grep -E "^AmbientCapabilities=" "$1" | grep -qv "=CAP_NET_ADMIN$"' _ "$AGENT_UNIT"
for d in Type=notify Restart=on-failure DynamicUser=yes CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
	AmbientCapabilities=CAP_NET_BIND_SERVICE NoNewPrivileges=yes ProtectSystem=strict \
	ProtectHome=yes PrivateTmp=yes SystemCallFilter=@system-service; do
	check "wiremesh-relay.service has $d" grep -qxF -- "$d" "$RELAY_UNIT"
done
unset agent_u

# ------------------------------------------------------------------ reinstall, upgrade
# An edited conffile and an operator's own config survive a reinstall and an
# upgrade.
echo "# local edit $$" >>/etc/wiremesh/wm0.conf.example
cp "$TMP/wm0.conf" /etc/wiremesh/wm0.conf
CREATED_FILES+=(/etc/wiremesh/wm0.conf)
sum_before=$(sha256sum /etc/wiremesh/wm0.conf /etc/wiremesh/wm0.conf.example)
if timeout 120 dpkg -i "$DEB" </dev/null >"$TMP/dpkg.log" 2>&1; then ok "dpkg -i reinstalls"; else
	bad "dpkg -i reinstall"
	sed 's/^/     | /' "$TMP/dpkg.log"
fi
check "reinstall keeps the edited example and wm0.conf" \
	test "$(sha256sum /etc/wiremesh/wm0.conf /etc/wiremesh/wm0.conf.example)" = "$sum_before"

# The same package as version+1 (repacked), for a real upgrade.
UPV="${VERSION}+test1"
rm -rf "$TMP/up" && dpkg-deb -R "$DEB" "$TMP/up" &&
	sed -i "s/^Version: .*/Version: $UPV/" "$TMP/up/DEBIAN/control" &&
	dpkg-deb --root-owner-group -b "$TMP/up" "$TMP/up.deb" >/dev/null
if timeout 120 dpkg -i "$TMP/up.deb" </dev/null >"$TMP/dpkg.log" 2>&1; then
	ok "dpkg -i upgrades $VERSION -> $UPV"
else
	bad "dpkg -i upgrade"
	sed 's/^/     | /' "$TMP/dpkg.log"
fi
check "upgrade keeps the edited example and wm0.conf" \
	test "$(sha256sum /etc/wiremesh/wm0.conf /etc/wiremesh/wm0.conf.example)" = "$sum_before"
check "upgrade leaves no .dpkg-new/.dpkg-dist/.dpkg-old files" \
	bash -c '! compgen -G "/etc/wiremesh/*.dpkg-*" >/dev/null'

# Maintainer scripts under a running systemd: stand-in systemctl and
# deb-systemd-invoke record their arguments; the scripts' test for
# /run/systemd/system is pointed at a directory of ours.
mkdir -p "$TMP/shim" "$TMP/run-systemd-system"
for c in systemctl deb-systemd-invoke; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 0\n' "$c" "$TMP" >"$TMP/shim/$c"
	chmod +x "$TMP/shim/$c"
done
as_if_systemd() { # script args...
	local s=$1
	shift
	sed "s|/run/systemd/system|$TMP/run-systemd-system|g" "/var/lib/dpkg/info/wiremesh.$s" >"$TMP/$s.sh"
	: >"$TMP/calls"
	PATH=$TMP/shim:$PATH timeout 60 sh "$TMP/$s.sh" "$@" >/dev/null 2>&1
}
check "postinst configure (upgrade, systemd running) exits 0" as_if_systemd postinst configure "$VERSION"
calls=$(cat "$TMP/calls")
check "upgrade try-restarts running agent instances" hasF "$calls" "try-restart wiremesh@*.service"
check "upgrade try-restarts a running relay" hasF "$calls" "try-restart wiremesh-relay.service"
check "prerm remove (systemd running) exits 0" as_if_systemd prerm remove
calls=$(cat "$TMP/calls")
check "remove stops every agent instance and the relay" \
	hasF "$calls" "deb-systemd-invoke stop wiremesh@*.service wiremesh-relay.service"

# ------------------------------------------------------------------ remove, purge
if timeout 120 dpkg -r wiremesh </dev/null >"$TMP/dpkg.log" 2>&1; then ok "dpkg -r removes"; else
	bad "dpkg -r"
	sed 's/^/     | /' "$TMP/dpkg.log"
fi
check "remove takes /usr/bin/wiremesh and the units" \
	bash -c '! [ -e /usr/bin/wiremesh ] && ! [ -e /lib/systemd/system/wiremesh@.service ]'
check "remove keeps conffiles and operator configs" \
	test "$(sha256sum /etc/wiremesh/wm0.conf /etc/wiremesh/wm0.conf.example 2>/dev/null)" = "$sum_before"
if timeout 120 dpkg --purge wiremesh </dev/null >"$TMP/dpkg.log" 2>&1; then ok "dpkg --purge purges"; else
	bad "dpkg --purge"
	sed 's/^/     | /' "$TMP/dpkg.log"
fi
check "purge removes the example conffiles" \
	bash -c '! [ -e /etc/wiremesh/wm0.conf.example ] && ! [ -e /etc/wiremesh/relay.conf.example ]'
check "purge keeps an operator's /etc/wiremesh/wm0.conf" test -f /etc/wiremesh/wm0.conf
if [ "$GROUP_PREEXISTED" = 0 ]; then
	check "purge removes the wiremesh group" bash -c '! getent group wiremesh >/dev/null'
fi
rm -f /etc/wiremesh/wm0.conf
rmdir /etc/wiremesh 2>/dev/null

# A second cycle straight through the non-systemd paths, then the file lists.
for step in "-i $DEB" "-r wiremesh" "--purge wiremesh"; do
	# shellcheck disable=SC2086
	if ! timeout 120 dpkg $step </dev/null >"$TMP/dpkg.log" 2>&1; then
		bad "dpkg $step (second cycle)"
		sed 's/^/     | /' "$TMP/dpkg.log"
	fi
done
not_installed() { ! installed; }
check "nothing left: wiremesh not installed" not_installed
check "nothing left: /etc/wiremesh gone" test ! -e /etc/wiremesh
snapshot >"$TMP/files.after"
# A path without "wiremesh" in it that another installed package owns, or
# apt's and dpkg's own bookkeeping, changed through other activity on the
# machine (apt in another shell): shown, not counted.
leftover=()
while IFS= read -r line; do
	p=${line:2}
	if [[ $p != *wiremesh* ]] && { [[ $p == /var/lib/apt/* || $p == /var/lib/dpkg/* ]] ||
		dpkg -S "$p" >/dev/null 2>&1; }; then
		note "unrelated change: $line"
	else
		leftover+=("$line")
	fi
done < <(diff "$TMP/files.before" "$TMP/files.after" | grep -E '^[<>] ')
check "file lists of /usr /etc /var/lib /lib/systemd match before install and after purge${leftover:+ (${leftover[*]})}" \
	test ${#leftover[@]} = 0

# ------------------------------------------------------------------ rpm
ROOT=$TMP/rpmroot
mkdir -p "$ROOT"
if timeout 60 rpm --root "$ROOT" --dbpath /rpmdb --initdb 2>/dev/null &&
	timeout 60 rpm -i --root "$ROOT" --dbpath /rpmdb --nodeps --noscripts "$RPM" >/dev/null 2>&1; then
	ok "rpm installs into a scratch root"
	modes=$(cd "$ROOT" && stat -c '%a %U:%G %n' etc/wiremesh etc/wiremesh/wm0.conf.example \
		etc/wiremesh/relay.conf.example usr/bin/wiremesh usr/lib/systemd/system/wiremesh@.service \
		usr/lib/systemd/system/wiremesh-relay.service usr/lib/sysusers.d/wiremesh.conf \
		usr/share/man/man8/wiremesh.8.gz usr/share/bash-completion/completions/wiremesh 2>&1)
	want="700 root:root etc/wiremesh
600 root:root etc/wiremesh/wm0.conf.example
600 root:root etc/wiremesh/relay.conf.example
755 root:root usr/bin/wiremesh
644 root:root usr/lib/systemd/system/wiremesh@.service
644 root:root usr/lib/systemd/system/wiremesh-relay.service
644 root:root usr/lib/sysusers.d/wiremesh.conf
644 root:root usr/share/man/man8/wiremesh.8.gz
644 root:root usr/share/bash-completion/completions/wiremesh"
	check "rpm files have the expected modes and owners" test "$modes" = "$want"
	[ "$modes" = "$want" ] || diff <(echo "$want") <(echo "$modes") | sed 's/^/     | /'
	vout=$(timeout 10 "$ROOT/usr/bin/wiremesh" version 2>&1)
	check "the rpm's binary runs" hasF "$vout" "wiremesh $VERSION"
	verify=$(timeout 60 rpm -V --nodeps --root "$ROOT" --dbpath /rpmdb wiremesh 2>&1)
	check "rpm -V finds the scratch install intact" test -z "$verify"
else
	bad "rpm installs into a scratch root"
fi

exit 0
