#!/usr/bin/env bash
# The REST API under abuse (issue 7): slow clients that connect and never
# finish a request take at most WM_API_MAX_CONNECTIONS slots, are dropped
# after the idle timeout, and never stall the agent itself — the tunnel and
# the wg UAPI keep answering meanwhile.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init
lab_topology none none
wm_key a
wm_key b
wm_agent_conf a 10.77.0.1/24 <<EOC
[Peer]
PublicKey = $(wm_pub b)
AllowedIPs = 10.77.0.2/32
Endpoint = $HOST_B_IP:51820
EOC
wm_agent_conf b 10.77.0.2/24 <<EOC
[Peer]
PublicKey = $(wm_pub a)
AllowedIPs = 10.77.0.1/32
Endpoint = $HOST_A_IP:51820
EOC
wm_agent_start "$HOST_A_NS" a
wm_agent_start "$HOST_B_NS" b
SOCK=$LAB_TMP/a.api.sock

# 80 clients each send half a request line and then nothing, for 14 s.
cat >"$LAB_TMP/slow.py" <<'EOP'
import socket, sys, time
path, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
socks, refused = [], 0
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.sendall(b"GET /v1/stat")
        socks.append(s)
    except OSError:
        refused += 1
print("connected", len(socks), "refused", refused, flush=True)
end = time.time() + hold
closed = 0
while time.time() < end and closed < len(socks):
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    time.sleep(0.2)
print("closed by the agent", closed, flush=True)
EOP
lab_bg --name slow "$HOST_A_NS" "$LAB_PYTHON" "$LAB_TMP/slow.py" "$SOCK" 80 14
SLOW=$LAB_LAST_PID
sleep 1
t_check "the tunnel works while the API is flooded" lab_exec "$HOST_A_NS" ping -c 3 -i 0.2 -W 2 10.77.0.2
t_check "the wg UAPI answers while the API is flooded" lab_exec "$HOST_A_NS" wg show "$(wm_ifname a)"
held() { # connections the agent has accepted on its API socket
	lab_exec "$HOST_A_NS" ss -Hxp state connected | grep -F "$SOCK" | grep -c "pid=$WM_PID_a,"
}
n_held=$(held)
t_check "the agent holds at most 64 of the 80 slow clients ($n_held)" test "$n_held" -le 64 -a "$n_held" -ge 32
t_check "idle connections are dropped within the timeout, and the API answers again" \
	lab_wait_for 15 sh -c "curl -sf --max-time 2 --unix-socket '$SOCK' http://x/v1/status | grep -q public_key"
lab_wait_for 16 sh -c "grep -q 'closed by the agent' '$LAB_TMP/slow.log'"
t_check "the agent closed the idle clients ($(cat "$LAB_TMP/slow.log" | tr '\n' ' '))" \
	sh -c "n=\$(sed -n 's/^closed by the agent \([0-9]*\)/\1/p' '$LAB_TMP/slow.log'); [ \"\${n:-0}\" -ge 60 ]"
t_check "agent a still running" kill -0 "$WM_PID_a"
t_summary
