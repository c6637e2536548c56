/*
 * aead.h - ChaCha20-Poly1305 (RFC 8439), the data path's AEAD.
 *
 * Three backends, chosen at build time (build.sh, WM_CRYPTO), pass the same
 * vectors (./build.sh test runs tests/unit/test_aead.c against each):
 *   sodium (default)   aead_sodium.c: libsodium's IETF ChaCha20-Poly1305,
 *                      about 3x BearSSL here, stateless, tag checked in
 *                      constant time before anything is decrypted.
 *   openssl            aead_openssl.c: OpenSSL 3 libcrypto's EVP
 *                      ChaCha20-Poly1305, about 5x BearSSL's speed here
 *                      (tests/tools/crypto_bench.c), but libcrypto maps
 *                      ~3 MB more into the agent. OpenSSL checks the
 *                      tag with CRYPTO_memcmp (constant time).
 *   bearssl            aead_bearssl.c: BearSSL's chacha20_sse2 and
 *                      poly1305_ctmulq where the CPU has them, the tag
 *                      compared here in constant time. No libcrypto.
 *
 * No allocation per packet. The OpenSSL backend makes one EVP_CIPHER_CTX
 * per thread on that thread's first call (thread-local, reused, freed at
 * thread exit) and aborts if that allocation fails; the libsodium and
 * BearSSL backends keep no state at all. So every function here may be called from
 * several threads at once, each with its own buffers. The OpenSSL
 * context keeps the last packet's key schedule until the next call
 * rekeys it.
 *
 * dst and src may be the same buffer (in place) or disjoint, never
 * partly overlapping.
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

/* The backend in use, e.g. "chacha20-poly1305 openssl 3.0.19 (EVP)", for
 * `wiremesh version`. A static string. */
const char *wm_aead_impl_name(void);

#endif
