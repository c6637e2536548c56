/* See x25519.h. What both backends (x25519_bearssl.c, x25519_openssl.c)
 * share; they provide wm_x25519() and its name. */
#include "crypto/x25519.h"

void wm_x25519_clamp(uint8_t key[WM_KEY_LEN])
{
	key[0] &= 248;
	key[31] &= 127;
	key[31] |= 64;
}

void wm_x25519_public(uint8_t pub[WM_KEY_LEN], const uint8_t priv[WM_KEY_LEN])
{
	static const uint8_t base[WM_KEY_LEN] = { 9 };

	/* The base point has prime order, so only a zero scalar (which
	 * clamping rules out) could give zero. */
	(void)wm_x25519(pub, priv, base);
}
