/* See aead.h. The libsodium backend (WM_CRYPTO=sodium). */
#include "crypto/aead.h"
#include "crypto/ct.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sodium_init picks the fastest code for this CPU; it must run before the
 * first use from any thread, so it runs before main. */
__attribute__((constructor)) static void init(void)
{
	if (sodium_init() < 0) {
		fputs("wiremesh: libsodium failed to initialise\n", stderr);
		abort();
	}
}

const char *wm_aead_impl_name(void)
{
	static char name[64];

	if (!name[0])
		snprintf(name, sizeof(name), "chacha20-poly1305 libsodium %s",
			 sodium_version_string());
	return name;
}

void wm_aead_seal_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY])
{
	/* libsodium allows dst == src; the tag goes after the text. */
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		dst, dst + len, NULL, src, len, ad, adlen, NULL, nonce, key);
}

bool wm_aead_open_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY])
{
	size_t plen;

	if (len < WM_AEAD_TAG)
		return false;
	plen = len - WM_AEAD_TAG;
	/* The tag is checked (in constant time) before anything is
	 * decrypted; a failure leaves dst as the contract says: zeros. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		    dst, NULL, src, plen, src + plen, ad, adlen, nonce, key) != 0) {
		if (plen > 0)
			wm_memzero(dst, plen);
		return false;
	}
	return true;
}
