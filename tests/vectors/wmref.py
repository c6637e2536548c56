"""
wmref.py - the primitives the reference scripts in this directory share,
written from the specifications and not from agent/ or crypto/, so that the
golden bytes they print are an independent check of the C code.

  HASH, MAC, HMAC, KDF   WireGuard whitepaper section 5.4 (BLAKE2s from
                         Python's hashlib, HMAC from Python's hmac)
  AEAD                   RFC 8439 ChaCha20-Poly1305 (python3-cryptography,
                         i.e. OpenSSL)
  HChaCha20, XAEAD       draft-irtf-cfrg-xchacha-03 sections 2.2 and 2.3:
                         HChaCha20 written out here by hand, then OpenSSL's
                         ChaCha20-Poly1305 under the derived subkey
  X25519                 RFC 7748 (python3-cryptography)

Debian: apt-get install python3-cryptography. Run with /usr/bin/python3.
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat)


def HASH(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def MAC(key, data):
    """Keyed BLAKE2s with a 16-byte output (whitepaper: MAC)."""
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def HMAC(key, data):
    """HMAC with BLAKE2s-256 as the hash (64-byte block)."""
    return hmac.new(key, data, hashlib.blake2s).digest()


def KDF(n, key, data):
    """HKDF-style KDF_n of the whitepaper: n 32-byte outputs."""
    t0 = HMAC(key, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = HMAC(t0, prev + bytes([i]))
        out.append(prev)
    return out


def x25519_public(priv):
    k = X25519PrivateKey.from_private_bytes(priv)
    return k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def DH(priv, pub):
    k = X25519PrivateKey.from_private_bytes(priv)
    return k.exchange(X25519PublicKey.from_public_bytes(pub))


def AEAD(key, counter, plain, ad):
    """WireGuard's nonce: 32 zero bits, then the 64-bit counter LE."""
    nonce = b"\0" * 4 + struct.pack("<Q", counter)
    return ChaCha20Poly1305(key).encrypt(nonce, plain, ad)


def _rotl(v, c):
    return ((v << c) & 0xffffffff) | (v >> (32 - c))


def _qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = _rotl(s[b] ^ s[c], 7)


def hchacha20(key, nonce16):
    """draft-irtf-cfrg-xchacha section 2.2: 20 ChaCha rounds without the
    final addition; output words 0..3 and 12..15."""
    assert len(key) == 32 and len(nonce16) == 16
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        _qr(s, 0, 4, 8, 12); _qr(s, 1, 5, 9, 13)
        _qr(s, 2, 6, 10, 14); _qr(s, 3, 7, 11, 15)
        _qr(s, 0, 5, 10, 15); _qr(s, 1, 6, 11, 12)
        _qr(s, 2, 7, 8, 13); _qr(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def XAEAD(key, nonce24, plain, ad):
    """XChaCha20-Poly1305: subkey = HChaCha20(key, nonce[0..16)), then
    ChaCha20-Poly1305 with nonce 0^32 || nonce[16..24)."""
    assert len(nonce24) == 24
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).encrypt(b"\0" * 4 + nonce24[16:], plain, ad)


def _self_test():
    # draft-irtf-cfrg-xchacha-03 section 2.2.1, the HChaCha20 test vector.
    k = bytes(range(32))
    n = bytes.fromhex("000000090000004a0000000031415927")
    want = bytes.fromhex("82413b4227b27bfed30e42508a877d73"
                         "a0f9e4d58a74a853c12ec41326d3ecdc")
    assert hchacha20(k, n) == want, "HChaCha20 does not match the draft"
    # RFC 7748 section 6.1: Alice's key pair.
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645"
                      "df4c2f87ebc0992ab177fba51db92c2a")
    assert x25519_public(a) == bytes.fromhex(
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")


_self_test()


def c_hex(name, data, comment=None):
    """A C string constant for check_unhex(), 32 bytes a line."""
    h = data.hex()
    lines = [h[i:i + 64] for i in range(0, len(h), 64)] or [""]
    out = []
    if comment:
        out.append("/* %s */" % comment)
    out.append("static const char %s[] = /* %d bytes */" % (name, len(data)))
    for i, l in enumerate(lines):
        out.append('\t"%s"%s' % (l, ";" if i == len(lines) - 1 else ""))
    return "\n".join(out)
