# Attacker M: replay captured disco pings, then forward only disco between A and B.
# Prints "FWD disco=N other=M" after each datagram it forwards.
import socket, sys, time, select
a_ip, b_ip, ping_from_b, ping_from_a, dur, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40000))
pb = bytes.fromhex(open(ping_from_b).read().strip())
pa = bytes.fromhex(open(ping_from_a).read().strip())
if not pb or not pa:
    sys.exit("nothing to replay: a captured ping file is empty")
s.sendto(pb, (a_ip, 51820))   # replay b's ping to a, from M
s.sendto(pa, (b_ip, 51820))   # replay a's ping to b, from M
print("replayed", len(pb), len(pa), flush=True)
a_addr = (a_ip, 51820); b_addr = (b_ip, 51820)
end = time.time() + dur
fwd = {"disco": 0, "other": 0}
while time.time() < end:
    r, _, _ = select.select([s], [], [], 0.5)
    if not r: continue
    data, src = s.recvfrom(65535)
    disco = data[:3] == b"WMD"  # any disco version
    if not disco and mode == "blackhole":
        fwd["other"] += 1
        continue
    if src[0] == a_ip: s.sendto(data, b_addr)
    elif src[0] == b_ip: s.sendto(data, a_addr)
    fwd["disco" if disco else "other"] += 1
    # the test waits on this: proof the attacker did forward
    print("FWD disco=%d other=%d" % (fwd["disco"], fwd["other"]), flush=True)
print("forwarded/dropped", fwd, flush=True)
