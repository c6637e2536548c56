/*
 * blake2s.h - BLAKE2s (RFC 7693), unkeyed and keyed, outputs of 1..32 bytes.
 * BearSSL has no BLAKE2, and WireGuard's hash, MAC and KDF are built on it.
 * Callers own the state; no allocation.
 */
#ifndef WM_CRYPTO_BLAKE2S_H
#define WM_CRYPTO_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

enum {
	WM_BLAKE2S_BLOCK = 64,
	WM_BLAKE2S_OUT = 32,
	WM_BLAKE2S_KEY = 32,
};

struct wm_blake2s {
	uint32_t h[8];
	uint32_t t[2];
	uint8_t buf[WM_BLAKE2S_BLOCK];
	size_t buflen;
	size_t outlen;
};

/* Starts a hash with outlen in 1..32 and an optional key (keylen 0..32). */
void wm_blake2s_init(struct wm_blake2s *s, size_t outlen, const void *key,
		     size_t keylen);
void wm_blake2s_update(struct wm_blake2s *s, const void *in, size_t len);
/* Writes outlen bytes to out and wipes the state. */
void wm_blake2s_final(struct wm_blake2s *s, uint8_t *out);

/* One-shot: out = BLAKE2s-outlen(key, in). */
void wm_blake2s(uint8_t *out, size_t outlen, const void *in, size_t inlen,
		const void *key, size_t keylen);

#endif
