/* See x25519.h. The libsodium backend (WM_CRYPTO=sodium). */
#include "crypto/x25519.h"
#include "crypto/ct.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

const char *wm_x25519_impl_name(void)
{
	static char name[64];

	if (!name[0])
		snprintf(name, sizeof(name), "x25519 libsodium %s",
			 sodium_version_string());
	return name;
}

bool wm_x25519(uint8_t out[WM_KEY_LEN], const uint8_t scalar[WM_KEY_LEN],
	       const uint8_t point[WM_KEY_LEN])
{
	uint8_t k[WM_KEY_LEN], p[WM_KEY_LEN];
	bool ok;

	memcpy(k, scalar, WM_KEY_LEN);
	wm_x25519_clamp(k);
	/* RFC 7748 says to ignore the point's top bit. */
	memcpy(p, point, WM_KEY_LEN);
	p[WM_KEY_LEN - 1] &= 0x7f;
	/* libsodium refuses an all-zero result itself (-1); checked here
	 * too, as with every backend. */
	ok = crypto_scalarmult_curve25519(out, k, p) == 0 &&
	     !wm_ct_is_zero(out, WM_KEY_LEN);
	wm_memzero(k, sizeof(k));
	if (!ok)
		wm_memzero(out, WM_KEY_LEN);
	return ok;
}
