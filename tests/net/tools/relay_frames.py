#!/usr/bin/env python3
"""Checks relay datagrams in a pcap (taken in the relay's namespace) against
the wire format in README ("Relay frames") and agent/relay/fwd.h.

  relay_frames.py PCAP RELAY_IP [IP=BASE64KEY ...]   (IPv4 or IPv6) [--v2-from IP] [--v2-to IP]
                  [--v1-only-to IP] [--v1-only-from IP]

IP=KEY names the agent behind each public address. Every forwarding frame
("WMR" 0x02) must have: type 0x04; flags 0, or 0x01 only from the relay and
only on a WireGuard data body; two zero bytes; frame type SEND (1) towards
the relay and RECV (2) from it; the key of the other agent (SEND: the
destination; RECV: the source); a body that is a WireGuard message (type
1-4 and three zero bytes) or a disco message ("WMD" 0x01); at least 69
bytes; no counter twice for one receiver index and direction (no replay on
the wire). Prints one line of counts per address; exits 1 on any mismatch.

A relay sends a round's datagrams to one client as one UDP_SEGMENT
super-packet, which the capture holds whole: such a payload is split at
the segment size that puts a relay magic at every segment's start.
"""
import base64
import ipaddress
import struct
import sys


def packets(path):
    with open(path, 'rb') as f:
        hdr = f.read(24)
        magic = struct.unpack('<I', hdr[:4])[0]
        endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        linktype = struct.unpack(endian + 'I', hdr[20:24])[0]
        off = {1: 14, 113: 16, 276: 20}.get(linktype, 14)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            incl = struct.unpack(endian + 'IIII', h)[2]
            pkt = f.read(incl)
            ip = pkt[off:]
            if len(ip) >= 20 and ip[0] >> 4 == 4 and ip[9] == 17:
                ihl = (ip[0] & 15) * 4
                yield (str(ipaddress.ip_address(ip[12:16])),
                       str(ipaddress.ip_address(ip[16:20])), ip[ihl + 8:])
            elif len(ip) >= 48 and ip[0] >> 4 == 6 and ip[6] == 17:
                yield (str(ipaddress.ip_address(ip[8:24])),
                       str(ipaddress.ip_address(ip[24:40])), ip[48:])


def is_relay(b):
    return b[:3] == b'WMR' and len(b) >= 4 and b[3] in (1, 2)


def split(payload):
    """The datagrams of a (possibly GSO) payload."""
    if not is_relay(payload):
        return [payload]
    n = len(payload)
    for size in range(12, n):
        if all(is_relay(payload[k:k + 4]) for k in range(0, n, size)):
            return [payload[k:k + size] for k in range(0, n, size)]
    return [payload]


def main(argv):
    pcap, relay = argv[0], argv[1]
    keys, want = {}, []
    i = 2
    while i < len(argv):
        a = argv[i]
        if a.startswith('--'):
            want.append((a, argv[i + 1]))
            i += 2
            continue
        ip, k = a.split('=', 1)
        keys[ip] = base64.b64decode(k)
        i += 1
    errors = []
    counts = {}
    seen = set()
    for src, dst, payload in packets(pcap):
        if relay not in (src, dst):
            continue
        towards = dst == relay
        agent = src if towards else dst
        for d in split(payload):
            if not is_relay(d):
                continue
            c = counts.setdefault(agent, {'v1 in': 0, 'v1 out': 0,
                                          'v2 in': 0, 'v2 out': 0})
            c['v%d %s' % (d[3], 'in' if towards else 'out')] += 1
            if d[3] != 2:
                continue
            why = check(d, towards, agent, keys)
            if why:
                errors.append('%s %s %s: %s (%s...)' % (
                    src, '->', dst, why, d[:24].hex()))
            idx_ctr = (towards, agent, d[8:12], d[12:20])
            if idx_ctr in seen:
                errors.append('%s -> %s: counter %d twice' % (
                    src, dst, struct.unpack('<Q', d[12:20])[0]))
            seen.add(idx_ctr)
    for ip in sorted(counts):
        print('%s: %s' % (ip, ', '.join('%s %d' % kv for kv in
                                         sorted(counts[ip].items()))))
    for opt, ip in want:
        c = counts.get(ip, {'v1 in': 0, 'v1 out': 0, 'v2 in': 0, 'v2 out': 0})
        if opt == '--v2-from' and c['v2 in'] == 0:
            errors.append('no forwarding frame from %s' % ip)
        elif opt == '--v2-to' and c['v2 out'] == 0:
            errors.append('no forwarding frame to %s' % ip)
        elif opt == '--v1-only-to' and (c['v2 out'] or not c['v1 out']):
            errors.append('%s got %d forwarding frames, %d sealed' % (
                ip, c['v2 out'], c['v1 out']))
        elif opt == '--v1-only-from' and (c['v2 in'] or not c['v1 in']):
            errors.append('%s sent %d forwarding frames, %d sealed' % (
                ip, c['v2 in'], c['v1 in']))
    for e in errors[:20]:
        print('MISMATCH ' + e)
    if errors:
        print('%d mismatches' % len(errors))
        return 1
    return 0


def check(d, towards, agent, keys):
    if len(d) < 69:
        return 'shorter than 69 bytes'
    if d[4] != 4 or d[6] or d[7]:
        return 'bad type or reserved bytes'
    ftype, key, body = d[20], d[21:53], d[53:-16]
    if ftype != (1 if towards else 2):
        return 'frame type %d %s the relay' % (ftype, 'to' if towards else 'from')
    wg = len(body) >= 4 and 1 <= body[0] <= 4 and body[1:4] == b'\0\0\0'
    if not wg and body[:4] != b'WMD\x01':
        return 'body is neither WireGuard nor disco'
    if d[5] not in (0, 1) or (d[5] == 1 and (towards or body[0] != 4 or len(body) < 32)):
        return 'flags 0x%02x' % d[5]
    if keys:
        others = [k for ip, k in keys.items() if ip != agent]
        if agent in keys and key == keys[agent]:
            return 'the key is the agent\'s own'
        if key not in others:
            return 'the key is no other agent\'s'
    return None


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
