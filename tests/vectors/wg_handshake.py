#!/usr/bin/python3
"""
wg_handshake.py - golden bytes for tests/unit/test_golden.c, computed
independently of agent/ and crypto/.

This follows the WireGuard whitepaper (Donenfeld, "WireGuard: Next
Generation Kernel Network Tunnel"), section 5.4: the Noise_IKpsk2 handshake
with
    CONSTRUCTION = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
    IDENTIFIER   = "WireGuard v1 zx2c4 Jason@zx2c4.com"
    LABEL_MAC1   = "mac1----"
    LABEL_COOKIE = "cookie--"
section 5.4.2 (initiation), 5.4.3 (response), 5.4.4 (mac1/mac2),
5.4.5 (transport keys), 5.4.6 (transport data) and 5.4.7 (cookie reply).
Primitives are in wmref.py (hashlib BLAKE2s, hmac, python3-cryptography's
X25519 and ChaCha20-Poly1305, HChaCha20 by hand).

Everything random in a real handshake is fixed here: static and ephemeral
keys, indices, the TAI64N timestamp, the preshared key, the cookie secret
and nonce. Private keys are given unclamped; X25519 clamps them (RFC 7748),
as wm_noise_local_init() and wm_noise_create_*() do.

Usage: /usr/bin/python3 tests/vectors/wg_handshake.py > constants.txt
and paste the output into test_golden.c.
"""
import sys
sys.dont_write_bytecode = True  # keep tests/vectors/ free of __pycache__

import struct

from wmref import (AEAD, DH, HASH, KDF, MAC, XAEAD, c_hex, x25519_public)

CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"
LABEL_COOKIE = b"cookie--"

# --- fixed inputs (the same values are spelled out in test_golden.c) ---
I_STATIC = bytes(range(0x01, 0x21))          # initiator static private
R_STATIC = bytes(range(0x21, 0x41))          # responder static private
I_EPHEMERAL = bytes(range(0x41, 0x61))
R_EPHEMERAL = bytes(range(0x61, 0x81))
PSK = bytes(range(0xa0, 0xc0))
I_INDEX = 0x0a0b0c0d
R_INDEX = 0xa1b2c3d4
TAI_SEC = 1700000000                          # wm_noise_tai64n(sec, nsec)
TAI_NSEC = 123456789
COOKIE_SECRET = bytes(range(0xc0, 0xe0))      # responder's cookie secret
COOKIE_NONCE = bytes(range(0xe0, 0xf8))       # 24 bytes
COOKIE_SRC = bytes([192, 0, 2, 1, 0xca, 0x6c])  # 192.0.2.1:51820
DATA_PLAIN = bytes(range(0x45, 0x45 + 20))    # 20 bytes, padded to 32
DATA_I_COUNTER = 7
DATA_R_COUNTER = 0x0102030405060708


def tai64n(sec, nsec):
    # TAI64 label 2^62 + 10 + sec; nanoseconds rounded down to 2^24 as
    # the agent does (its own choice to blur the clock; still TAI64N).
    return struct.pack(">QI", 0x400000000000000a + sec, nsec & ~0xffffff)


def main():
    si_pub = x25519_public(I_STATIC)
    sr_pub = x25519_public(R_STATIC)
    ei_pub = x25519_public(I_EPHEMERAL)
    er_pub = x25519_public(R_EPHEMERAL)
    ts = tai64n(TAI_SEC, TAI_NSEC)

    # 5.4.2 initiator -> responder
    c = HASH(CONSTRUCTION)
    h = HASH(c, IDENTIFIER)
    h = HASH(h, sr_pub)
    c = KDF(1, c, ei_pub)[0]
    h = HASH(h, ei_pub)
    c, k = KDF(2, c, DH(I_EPHEMERAL, sr_pub))
    enc_static = AEAD(k, 0, si_pub, h)
    h = HASH(h, enc_static)
    c, k = KDF(2, c, DH(I_STATIC, sr_pub))
    enc_ts = AEAD(k, 0, ts, h)
    h = HASH(h, enc_ts)
    init = (bytes([1, 0, 0, 0]) + struct.pack("<I", I_INDEX) + ei_pub +
            enc_static + enc_ts)
    assert len(init) == 116
    # 5.4.4: mac1 keyed by the receiver's public key; no cookie yet.
    init_mac1 = MAC(HASH(LABEL_MAC1, sr_pub), init)
    initiation = init + init_mac1 + b"\0" * 16

    # 5.4.3 responder -> initiator
    c = KDF(1, c, er_pub)[0]
    h = HASH(h, er_pub)
    c = KDF(1, c, DH(R_EPHEMERAL, ei_pub))[0]
    c = KDF(1, c, DH(R_EPHEMERAL, si_pub))[0]
    c, tau, k = KDF(3, c, PSK)
    h = HASH(h, tau)
    enc_nothing = AEAD(k, 0, b"", h)
    h = HASH(h, enc_nothing)
    resp = (bytes([2, 0, 0, 0]) + struct.pack("<II", R_INDEX, I_INDEX) +
            er_pub + enc_nothing)
    assert len(resp) == 60
    resp_mac1 = MAC(HASH(LABEL_MAC1, si_pub), resp)
    response = resp + resp_mac1 + b"\0" * 16

    # 5.4.5 transport keys: initiator sends with the first, receives with
    # the second; the responder the other way round.
    t_i_send, t_i_recv = KDF(2, c, b"")

    # 5.4.6 transport data: padded to 16 (the MTU does not cap 32 here).
    padded = DATA_PLAIN + b"\0" * (-len(DATA_PLAIN) % 16)
    data_i = (bytes([4, 0, 0, 0]) + struct.pack("<IQ", R_INDEX, DATA_I_COUNTER)
              + AEAD(t_i_send, DATA_I_COUNTER, padded, b""))
    data_r = (bytes([4, 0, 0, 0]) + struct.pack("<IQ", I_INDEX, DATA_R_COUNTER)
              + AEAD(t_i_recv, DATA_R_COUNTER, padded, b""))
    keepalive_i = (bytes([4, 0, 0, 0]) + struct.pack("<IQ", R_INDEX, 0) +
                   AEAD(t_i_send, 0, b"", b""))

    # 5.4.7 the responder, under load, answers the initiation with a
    # cookie: tau = MAC(secret, source address), sealed with XAEAD under
    # HASH(LABEL_COOKIE || its own public key) and the initiation's mac1
    # as associated data.
    cookie = MAC(COOKIE_SECRET, COOKIE_SRC)
    cookie_reply = (bytes([3, 0, 0, 0]) + struct.pack("<I", I_INDEX) +
                    COOKIE_NONCE +
                    XAEAD(HASH(LABEL_COOKIE, sr_pub), COOKIE_NONCE, cookie,
                          init_mac1))
    assert len(cookie_reply) == 64
    # The initiator then resends with mac2 = MAC(cookie, msg up to mac2).
    initiation_mac2 = (init + init_mac1 +
                       MAC(cookie, init + init_mac1))

    print("/* Generated by tests/vectors/wg_handshake.py; do not edit. */")
    for name, val in [
            ("G_I_PUBLIC", si_pub), ("G_R_PUBLIC", sr_pub),
            ("G_TIMESTAMP", ts), ("G_INITIATION", initiation),
            ("G_RESPONSE", response), ("G_T_I_SEND", t_i_send),
            ("G_T_I_RECV", t_i_recv), ("G_DATA_I", data_i),
            ("G_DATA_R", data_r), ("G_KEEPALIVE_I", keepalive_i),
            ("G_COOKIE", cookie), ("G_COOKIE_REPLY", cookie_reply),
            ("G_INITIATION_MAC2", initiation_mac2)]:
        print(c_hex(name, val))


if __name__ == "__main__":
    main()
