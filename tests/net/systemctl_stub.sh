#!/usr/bin/env bash
# tests/net/systemctl_stub.sh — what systemd would do for the units in
# packaging/systemd, for tests/net/test_readme.sh, installed there as
# `systemctl` first in PATH inside a node's private mount namespace.
#
#   systemctl daemon-reload              nothing to do
#   systemctl enable --now UNIT          checks AssertPathExists=, copies the
#       LoadCredential= files (of the unit and its drop-ins in
#       /etc/systemd/system/UNIT.service.d/) to /run/credentials/UNIT.service/,
#       and starts ExecStart= (%i expanded, /usr/bin/wiremesh from PATH, with
#       CREDENTIALS_DIRECTORY) in the background; its PID goes to
#       $WM_STUB_DIR/UNIT.pid and its output to $WM_STUB_DIR/UNIT.log.
# Anything else fails loudly, so the README cannot use a command the test
# does not run.
set -eu
: "${WM_UNITS:?}" "${WM_STUB_DIR:?}"

case "${1:-} ${2:-}" in
"daemon-reload ") exit 0 ;;
"enable --now") unit=${3:?unit} ;;
*) echo "systemctl stub: '$*' is not emulated" >&2; exit 1 ;;
esac
unit=${unit%.service}
case $unit in
wiremesh@*) inst=${unit#wiremesh@}; file=$WM_UNITS/wiremesh@.service ;;
*) inst=; file=$WM_UNITS/$unit.service ;;
esac
[ -f "$file" ] || { echo "systemctl stub: no unit $unit" >&2; exit 1; }

lines=$(cat "$file" /etc/systemd/system/"$unit".service.d/*.conf 2>/dev/null || true)
value() { sed -n "s/^$1=//p" <<<"$lines" | sed "s/%i/$inst/g"; }

while IFS= read -r p; do
	[ -z "$p" ] || [ -e "$p" ] || { echo "systemctl stub: $unit: assertion failed: $p" >&2; exit 1; }
done < <(value AssertPathExists)

cred=/run/credentials/$unit.service
while IFS= read -r c; do
	[ -n "$c" ] || continue
	mkdir -p /run/credentials && install -d -m 0700 "$cred"
	install -m 0400 "${c#*:}" "$cred/${c%%:*}"
done < <(value LoadCredential)
[ -d "$cred" ] && export CREDENTIALS_DIRECTORY=$cred

cmd=$(value ExecStart)
cmd=${cmd//\/usr\/bin\/wiremesh/wiremesh}
eval "set -- $cmd"
setsid "$@" </dev/null >>"$WM_STUB_DIR/$unit.log" 2>&1 &
echo $! >"$WM_STUB_DIR/$unit.pid"
