/*
 * x25519.h - X25519 (RFC 7748) over BearSSL's Curve25519 code.
 *
 * BearSSL takes the scalar big-endian and does not reject an all-zero
 * result; these wrappers take RFC 7748's little-endian scalars and refuse
 * the low-order points that yield zero.
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
