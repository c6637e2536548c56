/* See hkdf.h. */
#include "crypto/hkdf.h"
#include "crypto/blake2s.h"
#include "crypto/ct.h"

#include <string.h>

void wm_hmac_blake2s(uint8_t out[32], const void *key, size_t keylen,
		     const void *in, size_t inlen)
{
	uint8_t pad[WM_BLAKE2S_BLOCK] = { 0 }, inner[WM_BLAKE2S_OUT];
	struct wm_blake2s s;

	memcpy(pad, key, keylen);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	wm_blake2s_init(&s, WM_BLAKE2S_OUT, NULL, 0);
	wm_blake2s_update(&s, pad, sizeof(pad));
	wm_blake2s_update(&s, in, inlen);
	wm_blake2s_final(&s, inner);

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	wm_blake2s_init(&s, WM_BLAKE2S_OUT, NULL, 0);
	wm_blake2s_update(&s, pad, sizeof(pad));
	wm_blake2s_update(&s, inner, sizeof(inner));
	wm_blake2s_final(&s, out);

	wm_memzero(pad, sizeof(pad));
	wm_memzero(inner, sizeof(inner));
}

void wm_kdf(uint8_t t1[32], uint8_t *t2, uint8_t *t3, const uint8_t key[32],
	    const void *in, size_t inlen)
{
	uint8_t prk[32], buf[33];

	wm_hmac_blake2s(prk, key, 32, in, inlen);
	buf[0] = 1;
	wm_hmac_blake2s(buf, prk, 32, buf, 1);
	memcpy(t1, buf, 32);
	if (t2) {
		buf[32] = 2;
		wm_hmac_blake2s(buf, prk, 32, buf, 33);
		memcpy(t2, buf, 32);
	}
	if (t2 && t3) {
		buf[32] = 3;
		wm_hmac_blake2s(buf, prk, 32, buf, 33);
		memcpy(t3, buf, 32);
	}
	wm_memzero(prk, sizeof(prk));
	wm_memzero(buf, sizeof(buf));
}
