#!/usr/bin/env bash
# tests/net/test_ansible.sh — packaging/examples/ansible against a real agent.
#
# An agent runs in a lab namespace with one stale peer. Debian's
# ansible-playbook runs site.yml in that namespace (ip netns exec, local
# connection) for node1 of a three-node inventory, with the package and
# service tasks switched off (there is no systemd here): the role makes a
# key and the config, and PUT /v1/peers on the agent's unix socket makes its
# peers exactly node2 and node3. A second run reports changed=0. A peer
# deleted behind Ansible's back comes back with --tags peers (changed=1). The whole playbook passes --syntax-check (with the
# example inventory) and --check (on a fresh host).
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
. tests/net/lib.sh
. tests/net/wm.sh
lab_init || { echo "0 passed, 1 failed"; exit 1; }

[ -x "$WM" ] || { t_fail "no binary at $WM (./build.sh build)"; t_summary; }
command -v ansible-playbook >/dev/null || { t_fail "ansible-playbook missing (./build.sh deps)"; t_summary; }
lab_ns a || { t_fail "lab setup"; t_summary; }

wm_key a && wm_key b && wm_key c && wm_key d || { t_fail "keys"; t_summary; }
PB=$(wm_pub b) PC=$(wm_pub c) PD=$(wm_pub d)
wm_agent_conf a 10.77.0.1/24 <<EOF

[Peer]
PublicKey = $PC
AllowedIPs = 10.77.0.9/32
EOF
wm_agent_start a a || { t_fail "agent starts"; t_summary; }
SOCK=$LAB_TMP/a.api.sock

PLAY=$TOP/packaging/examples/ansible
export ANSIBLE_LOCAL_TEMP=$LAB_TMP/ansible-tmp ANSIBLE_REMOTE_TEMP=$LAB_TMP/ansible-tmp \
	ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
	ANSIBLE_HOME=$LAB_TMP/ansible-home ANSIBLE_PIPELINING=1
inventory() { # CONFIG_DIR
	cat <<EOF
all:
  vars:
    wiremesh_manage_package: false
    wiremesh_manage_service: false
  children:
    wiremesh:
      hosts:
        node1:
          ansible_connection: local
          wiremesh_address: 10.77.0.1/24
          wiremesh_config_dir: $1
          wiremesh_bin: $WM
          wiremesh_api_socket: $SOCK
        node2:
          wiremesh_public_key: $PB
          wiremesh_address: 10.77.0.2/24
        node3:
          wiremesh_public_key: $PD
          wiremesh_address: 10.77.0.3/24
          wiremesh_endpoint: 192.0.2.30:51820
          wiremesh_routed_ips: [192.168.30.0/24]
EOF
}
inventory "$LAB_TMP/etc-node1" >"$LAB_TMP/inventory.yml"
inventory "$LAB_TMP/etc-fresh" >"$LAB_TMP/inventory-check.yml"

RUN=0
# play [ARGS...]: runs site.yml for node1 in the namespace; $CHANGED from the recap
play() {
	RUN=$((RUN + 1))
	lab_exec a ansible-playbook -i "$LAB_TMP/inventory.yml" --limit node1 "$@" \
		"$PLAY/site.yml" >"$LAB_TMP/ansible-$RUN.log" 2>&1
	local st=$?
	CHANGED=$(sed -n 's/^node1 *: .*changed=\([0-9]*\).*failed=\([0-9]*\).*/\1 \2/p' "$LAB_TMP/ansible-$RUN.log")
	echo "run $RUN: exit $st, changed/failed: $CHANGED"
	[ $st = 0 ] || { tail -n 30 "$LAB_TMP/ansible-$RUN.log"; return 1; }
}
peers_now() { # sorted "key allowed_ips endpoint" lines
	wm_api a /v1/peers | "$LAB_PYTHON" -c '
import json, sys
for p in sorted(json.load(sys.stdin)["peers"], key=lambda p: p["public_key"]):
    print(p["public_key"], ",".join(sorted(p["allowed_ips"])), p["endpoint"], p["persistent_keepalive"])'
}
want=$(printf '%s\n' "$PB 10.77.0.2/32 None 25" "$PD 10.77.0.3/32,192.168.30.0/24 192.0.2.30:51820 25" | sort)

t_check "first run succeeds" play
t_check "first run changed something (key, config, peers)" eval '[ "${CHANGED%% *}" -ge 3 ]'
t_check "the agent's peers are exactly node2 and node3" eval '[ "$(peers_now)" = "$want" ] || { peers_now; false; }'
t_check "the config file is 0600 and lists both peers" eval \
	'[ "$(stat -c %a "$LAB_TMP/etc-node1/wm0.conf")" = 600 ] && [ "$(grep -c "^\[Peer\]" "$LAB_TMP/etc-node1/wm0.conf")" = 2 ]'
t_check "the config file passes --check-config" \
	"$WM" agent --check-config --config "$LAB_TMP/etc-node1/wm0.conf"
t_check "second run: changed=0" eval 'play && [ "$CHANGED" = "0 0" ]'

wm_api a "/v1/peers/$(wm_urlkey b)" -X DELETE >/dev/null
t_check "a peer deleted behind Ansible's back comes back (--tags peers, changed=1)" eval \
	'play --tags peers && [ "$CHANGED" = "1 0" ] && [ "$(peers_now)" = "$want" ]'

t_check "site.yml --syntax-check (example inventory)" \
	ansible-playbook -i "$PLAY/inventory.example.yml" --syntax-check "$PLAY/site.yml"
check_mode() {
	lab_exec a ansible-playbook -i "$LAB_TMP/inventory-check.yml" --limit node1 --check \
		"$PLAY/site.yml" >"$LAB_TMP/ansible-check.log" 2>&1 ||
		{ tail -n 30 "$LAB_TMP/ansible-check.log"; return 1; }
	[ ! -e "$LAB_TMP/etc-fresh/wm0.conf" ] || { echo "--check wrote the config"; return 1; }
	grep -A1 'Sync the live peer set' "$LAB_TMP/ansible-check.log" | grep -q '^skipping:' ||
		{ echo "--check did not skip the PUT"; return 1; }
}
t_check "site.yml --check on a fresh host passes and writes nothing" check_mode
t_check "--check changed nothing on the agent" eval '[ "$(peers_now)" = "$want" ]'

t_summary
