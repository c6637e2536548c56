# print hex of the last disco PING (UDP payload of 97 bytes in version 1, 81 in
# version 2) from SRC to DST in a pcap
import struct, sys
f = open(sys.argv[1], 'rb'); src, dst = sys.argv[2], sys.argv[3]
hdr = f.read(24); linktype = struct.unpack('<I', hdr[20:24])[0]
last = None
while True:
    h = f.read(16)
    if len(h) < 16: break
    _, _, incl, _ = struct.unpack('<IIII', h)
    pkt = f.read(incl)
    if len(pkt) < incl: break  # tcpdump is still writing this one
    off = {1: 14, 113: 16, 276: 20}.get(linktype, 16)
    ip = pkt[off:]
    if ip[0] >> 4 != 4: continue
    ihl = (ip[0] & 15) * 4
    s = '.'.join(map(str, ip[12:16])); d = '.'.join(map(str, ip[16:20]))
    udp = ip[ihl:]; payload = udp[8:]
    if s == src and d == dst and (payload[:4], len(payload)) in ((b'WMD\x01', 97), (b'WMD\x02', 81)):
        last = payload
if last is None:
    sys.exit("no disco ping from %s to %s in the capture yet" % (src, dst))
print(last.hex())
