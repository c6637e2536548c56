/*
 * aead.h - ChaCha20-Poly1305 (RFC 8439) over BearSSL, with the fastest
 * implementations this CPU offers (chacha20_sse2, poly1305_ctmulq), and the
 * tag comparison BearSSL leaves to the caller done in constant time.
 *
 * dst and src may be the same buffer (in place) or disjoint.
 */
#ifndef WM_CRYPTO_AEAD_H
#define WM_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WM_AEAD_KEY = 32, WM_AEAD_TAG = 16, WM_AEAD_NONCE = 12 };

/* dst[0..len+16) = ChaCha20-Poly1305(key, nonce, ad, src[0..len)). */
void wm_aead_seal_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY]);

/* Verifies and decrypts src[0..len) (ciphertext then tag, len >= 16) into
 * dst[0..len-16). On failure returns false and dst holds zeros. */
bool wm_aead_open_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY]);

/* WireGuard's form: the nonce is 32 zero bits then a 64-bit LE counter. */
void wm_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		  const void *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WM_AEAD_KEY]);
bool wm_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
		  const void *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WM_AEAD_KEY]);

/* The backend in use, e.g. "chacha20-poly1305 bearssl
 * (chacha20_sse2+poly1305_ctmulq)", for `wiremesh version`. A static
 * string. */
const char *wm_aead_impl_name(void);

#endif
