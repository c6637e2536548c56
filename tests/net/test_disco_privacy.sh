#!/usr/bin/env bash
# tests/net/test_disco_privacy.sh — disco version 2 puts no static public
# key on the wire (issue 16), and an agent still speaking version 1 is
# answered in it.
#
# Namespaces a (192.0.2.1) and b (192.0.2.2) on one veth, each running an
# agent with the other as its peer (endpoint configured, no relay), so
# discovery pings and pongs go straight over UDP.
#   - tcpdump in b captures every UDP datagram until version 2 disco
#     messages (magic "WMD" 2) have gone both ways; no datagram holds
#     either agent's static public key, nor any 16 bytes of it, and none
#     is a version 1 disco message
#   - b restarted with WIREMESH_DISCO_V1=1 (it speaks only version 1, as
#     agents before version 2 did): a counts version 1 messages
#     (wiremesh_disco_v1_received_total) and logs it once, and b counts
#     a's answers in version 1; the capture of this phase does show b's key
#     (the scan finds a key when there is one)
#   - b restarted (version 2 again) with its wall clock 10 minutes ahead
#     (libfaketime): a still takes its disco, counts the skew
#     (wiremesh_disco_clock_skew_total) and logs it once
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg tcpdump curl faketime

TAG=dp$(($$ % 100000))
IA=${TAG}a IB=${TAG}b
PORT=51820 IP_A=192.0.2.1 IP_B=192.0.2.2
PID_a="" PID_b=""

lab_ns a && lab_ns b && lab_veth a eth0 "$IP_A/24" b eth0 "$IP_B/24" ||
	{ t_fail "lab namespaces"; t_summary; }
pair_key ka && pair_key kb || { t_fail "keys"; t_summary; }
PAIR_API=1 pair_wm_conf "$IA" ka $PORT 10.79.0.1/24 kb 10.79.0.2/32 "$IP_B:$PORT"
PAIR_API=1 pair_wm_conf "$IB" kb $PORT 10.79.0.2/24 ka 10.79.0.1/32 "$IP_A:$PORT"

metric() { # IFACE NAME — the value of a metric of that agent
	curl -s --max-time 2 --unix-socket "$LAB_TMP/$1.api.sock" http://wiremesh/metrics |
		awk -v m="$2" '$1 ~ "^" m "[{ ]" || $1 == m {print $2}'
}
metric_ge() { local v; v=$(metric "$1" "$2"); echo "$1 $2 = ${v:-none}"; [ "${v:-0}" -ge "$3" ]; }

# scan PCAP — counts of disco v1/v2 datagrams and key hits, one line
cat >"$LAB_TMP/scan.py" <<'PY'
import base64, struct, sys
data = open(sys.argv[1], "rb").read()
keys = [base64.b64decode(k) for k in sys.argv[2:4]]
end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off, v1, v2, hits, n = 24, 0, 0, 0, 0
while off + 16 <= len(data):
    incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    n += 1
    ip = pkt[14:]                      # after Ethernet
    udp = ip[(ip[0] & 15) * 4:] if ip else b""
    payload = udp[8:]
    v1 += payload[:4] == b"WMD\x01"
    v2 += payload[:4] == b"WMD\x02"
    # the whole datagram, headers included: any 16 bytes of either key
    for k in keys:
        hits += any(k[i:i + 16] in pkt for i in range(17))
print("datagrams %d disco_v1 %d disco_v2 %d key_hits %d" % (n, v1, v2, hits))
PY
scan() { "$LAB_PYTHON" "$LAB_TMP/scan.py" "$1" "$(wm_pub ka)" "$(wm_pub kb)"; }
field_of() { awk -v f="$1" '{for (i = 1; i < NF; i++) if ($i == f) print $(i + 1)}'; }

# ------------------------------------------------------------ version 2
lab_bg --name cap1 b tcpdump -i eth0 -U -n -w "$LAB_TMP/v2.pcap" udp
PID_cap=$LAB_LAST_PID
lab_wait_for 5 test -s "$LAB_TMP/v2.pcap" || t_fail "tcpdump did not start"
t_check "agent a up" pair_wm_start a "$IA"
PID_A=$PID_a
t_check "agent b up" pair_wm_start b "$IB"
PID_B=$PID_b
t_check "tunnel up (ping a -> b)" lab_wait_for 10 pair_ping1 a 10.79.0.2
# both sides have sent disco and taken the other's
t_check "disco went both ways" lab_wait_for 15 eval 'metric_ge "$IA" wiremesh_disco_received_total 2 && metric_ge "$IB" wiremesh_disco_received_total 2'
v2_seen() { [ "$(scan "$LAB_TMP/v2.pcap" | field_of disco_v2)" -ge 4 ]; }
lab_wait_for 5 v2_seen
lab_kill "$PID_cap"
S=$(scan "$LAB_TMP/v2.pcap")
echo "capture (version 2): $S"
t_check "the capture holds version 2 disco datagrams" test "$(field_of disco_v2 <<<"$S")" -ge 4
t_check "no version 1 disco datagram" test "$(field_of disco_v1 <<<"$S")" -eq 0
t_check "no static public key (nor 16 bytes of one) in any datagram" test "$(field_of key_hits <<<"$S")" -eq 0
t_check "a counted no version 1 message" metric_ge "$IA" wiremesh_disco_v1_received_total 0
t_check "no clock skew counted" eval '[ "$(metric "$IA" wiremesh_disco_clock_skew_total)" = 0 ]'

# ------------------------------------------------------------ b speaks version 1
lab_kill "$PID_B"
lab_bg --name cap2 b tcpdump -i eth0 -U -n -w "$LAB_TMP/v1.pcap" udp
PID_cap=$LAB_LAST_PID
lab_wait_for 5 test -s "$LAB_TMP/v1.pcap" || t_fail "tcpdump did not start"
lab_bg --name "$IB.v1" b env WIREMESH_DISCO_V1=1 "$WM" agent --config "$LAB_TMP/$IB.conf"
PID_B=$LAB_LAST_PID
t_check "agent b (version 1 only) up" lab_wait_for 10 pair_uapi_up "$IB"
t_check "a takes b's version 1 messages" lab_wait_for 15 metric_ge "$IA" wiremesh_disco_v1_received_total 1
t_check "b takes a's answers in version 1" lab_wait_for 15 metric_ge "$IB" wiremesh_disco_v1_received_total 1
t_check "a logged the old version once" eval '[ "$(grep -c "speaks disco version 1" "$LAB_TMP/$IA.log")" = 1 ]'
t_check "ping b -> a with b on version 1" lab_wait_for 10 pair_ping1 b 10.79.0.1
# tcpdump -U writes each packet as it comes: wait until the file has them
v1_seen() { [ "$(scan "$LAB_TMP/v1.pcap" | field_of disco_v1)" -ge 2 ]; }
lab_wait_for 5 v1_seen
lab_kill "$PID_cap"
S=$(scan "$LAB_TMP/v1.pcap")
echo "capture (b on version 1): $S"
t_check "version 1 datagrams do show a static key (the scan sees one)" \
	eval '[ "$(field_of disco_v1 <<<"$S")" -ge 2 ] && [ "$(field_of key_hits <<<"$S")" -ge 1 ]'

# ------------------------------------------------------------ b's clock 10 min ahead
# (libfaketime on b's wall clock only; the host clock is not touched)
lab_kill "$PID_B"
SKEW0=$(metric "$IA" wiremesh_disco_clock_skew_total)
RX0=$(metric "$IA" wiremesh_disco_received_total)
lab_bg --name "$IB.skew" b env FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f +10m \
	"$WM" agent --config "$LAB_TMP/$IB.conf"
PID_B=$LAB_LAST_PID
t_check "agent b (clock 10 min ahead) up" lab_wait_for 10 pair_uapi_up "$IB"
t_check "b's disco still taken by a (no clock check in version 2)" \
	lab_wait_for 15 metric_ge "$IA" wiremesh_disco_received_total $((RX0 + 2))
t_check "a counted b's clock skew" lab_wait_for 5 metric_ge "$IA" wiremesh_disco_clock_skew_total $((SKEW0 + 1))
t_check "a logged b's clock once, 600 s ahead" \
	eval '[ "$(grep -c "its clock is 60[0-9] s ahead of ours" "$LAB_TMP/$IA.log")" = 1 ]'
t_check "b back on version 2: a takes it and b takes a's answers" \
	lab_wait_for 10 metric_ge "$IB" wiremesh_disco_received_total 1
t_check "ping b -> a with b's clock ahead" lab_wait_for 10 pair_ping1 b 10.79.0.1

lab_kill "$PID_B"
lab_kill "$PID_A"
t_summary
