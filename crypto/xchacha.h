/*
 * xchacha.h - HChaCha20 and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha),
 * which BearSSL lacks. WireGuard seals cookies with it; disco uses it too.
 */
#ifndef WM_CRYPTO_XCHACHA_H
#define WM_CRYPTO_XCHACHA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WM_XAEAD_NONCE = 24 };

/* out = HChaCha20(key, nonce[0..16)). */
void wm_hchacha20(uint8_t out[32], const uint8_t key[32],
		  const uint8_t nonce[16]);

/* dst[0..len+16) = XChaCha20-Poly1305(key, nonce, ad, src). In place ok. */
void wm_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		   const void *ad, size_t adlen,
		   const uint8_t nonce[WM_XAEAD_NONCE], const uint8_t key[32]);

/* src[0..len) is ciphertext then tag. False (and dst zeroed) on forgery. */
bool wm_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
		   const void *ad, size_t adlen,
		   const uint8_t nonce[WM_XAEAD_NONCE], const uint8_t key[32]);

#endif
