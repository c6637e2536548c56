/*
 * hkdf.h - HMAC-BLAKE2s and the WireGuard KDF (HKDF with BLAKE2s, one to
 * three 32-byte outputs), as in the WireGuard paper section 5.4.
 */
#ifndef WM_CRYPTO_HKDF_H
#define WM_CRYPTO_HKDF_H

#include <stddef.h>
#include <stdint.h>

/* out = HMAC-BLAKE2s-256(key, in); keylen <= 64. in is read in full before
 * out is written, so out may alias in (wm_kdf relies on it). */
void wm_hmac_blake2s(uint8_t out[32], const void *key, size_t keylen,
		     const void *in, size_t inlen);

/* KDF_n(key, in): t1 always; t2 and t3 may be NULL to stop early.
 * Intermediate secrets are wiped before return. */
void wm_kdf(uint8_t t1[32], uint8_t *t2, uint8_t *t3, const uint8_t key[32],
	    const void *in, size_t inlen);

#endif
