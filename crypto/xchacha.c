/* See xchacha.h. */
#include "crypto/xchacha.h"
#include "crypto/aead.h"
#include "crypto/ct.h"

#include <string.h>

static inline uint32_t rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static inline uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#define QR(a, b, c, d)                                   \
	do {                                             \
		a += b; d ^= a; d = rol32(d, 16);        \
		c += d; b ^= c; b = rol32(b, 12);        \
		a += b; d ^= a; d = rol32(d, 8);         \
		c += d; b ^= c; b = rol32(b, 7);         \
	} while (0)

void wm_hchacha20(uint8_t out[32], const uint8_t key[32],
		  const uint8_t nonce[16])
{
	uint32_t x[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };

	for (int i = 0; i < 8; i++)
		x[4 + i] = load32(key + 4 * i);
	for (int i = 0; i < 4; i++)
		x[12 + i] = load32(nonce + 4 * i);
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	/* HChaCha20 keeps rows 0 and 3 without the feed-forward add. */
	for (int i = 0; i < 4; i++) {
		store32(out + 4 * i, x[i]);
		store32(out + 16 + 4 * i, x[12 + i]);
	}
	wm_memzero(x, sizeof(x));
}

static void derive(uint8_t subkey[32], uint8_t nonce12[12],
		   const uint8_t nonce[WM_XAEAD_NONCE], const uint8_t key[32])
{
	wm_hchacha20(subkey, key, nonce);
	memset(nonce12, 0, 4);
	memcpy(nonce12 + 4, nonce + 16, 8);
}

void wm_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		   const void *ad, size_t adlen,
		   const uint8_t nonce[WM_XAEAD_NONCE], const uint8_t key[32])
{
	uint8_t subkey[32], n12[12];

	derive(subkey, n12, nonce, key);
	wm_aead_seal_nonce(dst, src, len, ad, adlen, n12, subkey);
	wm_memzero(subkey, sizeof(subkey));
}

bool wm_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
		   const void *ad, size_t adlen,
		   const uint8_t nonce[WM_XAEAD_NONCE], const uint8_t key[32])
{
	uint8_t subkey[32], n12[12];
	bool ok;

	derive(subkey, n12, nonce, key);
	ok = wm_aead_open_nonce(dst, src, len, ad, adlen, n12, subkey);
	wm_memzero(subkey, sizeof(subkey));
	return ok;
}
