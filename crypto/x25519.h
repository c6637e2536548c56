/*
 * x25519.h - X25519 (RFC 7748), for the handshake.
 *
 * Three backends, chosen at build time with the AEAD's (build.sh,
 * WM_CRYPTO), pass the same vectors (tests/unit/test_x25519.c runs
 * against each):
 *   sodium (default)   x25519_sodium.c: libsodium's crypto_scalarmult,
 *                      ~4x BearSSL's c25519_m31 and ~2x OpenSSL's EVP here
 *                      (tests/tools/crypto_bench.c).
 *   openssl            x25519_openssl.c: OpenSSL 3's EVP_PKEY X25519 (two
 *                      key objects made per call).
 *   bearssl            x25519_bearssl.c: BearSSL's c25519_m31.
 * Any way, scalars are RFC 7748's little-endian ones, clamped here; the
 * point's top bit is ignored; an all-zero result (a low-order point) is
 * refused here, not left to the library. No state: callable from any
 * thread. The OpenSSL backend allocates per call (handshakes only).
 */
#ifndef WM_CRYPTO_X25519_H
#define WM_CRYPTO_X25519_H

#include <stdbool.h>
#include <stdint.h>

enum { WM_KEY_LEN = 32 };

/* Clamps a private key in place, as RFC 7748 section 5 decodes scalars. */
void wm_x25519_clamp(uint8_t key[WM_KEY_LEN]);

/* out = X25519(scalar, point). False when the result is all zero. */
bool wm_x25519(uint8_t out[WM_KEY_LEN], const uint8_t scalar[WM_KEY_LEN],
	       const uint8_t point[WM_KEY_LEN]);

/* public = X25519(private, 9). */
void wm_x25519_public(uint8_t pub[WM_KEY_LEN],
		      const uint8_t priv[WM_KEY_LEN]);

/* The backend in use, e.g. "x25519 bearssl (c25519_m31)", for
 * `wiremesh version`. A static string. */
const char *wm_x25519_impl_name(void);

#endif
