/* See aead.h. WireGuard's counter nonce, shared by both backends
 * (aead_openssl.c, aead_bearssl.c), which provide the _nonce forms. */
#include "crypto/aead.h"

#include <string.h>

static void counter_nonce(uint8_t nonce[WM_AEAD_NONCE], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

void wm_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		  const void *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WM_AEAD_KEY])
{
	uint8_t nonce[WM_AEAD_NONCE];

	counter_nonce(nonce, counter);
	wm_aead_seal_nonce(dst, src, len, ad, adlen, nonce, key);
}

bool wm_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
		  const void *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WM_AEAD_KEY])
{
	uint8_t nonce[WM_AEAD_NONCE];

	counter_nonce(nonce, counter);
	return wm_aead_open_nonce(dst, src, len, ad, adlen, nonce, key);
}
