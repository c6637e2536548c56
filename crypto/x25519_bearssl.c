/* See x25519.h. The BearSSL backend (WM_CRYPTO=bearssl). */
#include "crypto/x25519.h"
#include "crypto/ct.h"

#include <bearssl.h>
#include <string.h>

const char *wm_x25519_impl_name(void)
{
	return "x25519 bearssl (c25519_m31)";
}

bool wm_x25519(uint8_t out[WM_KEY_LEN], const uint8_t scalar[WM_KEY_LEN],
	       const uint8_t point[WM_KEY_LEN])
{
	uint8_t k[WM_KEY_LEN];
	bool ok;

	/* Its header says "big-endian", but BearSSL's Curve25519 code reads
	 * the scalar little-endian as RFC 7748 does (the RFC vectors in
	 * tests/unit/test_x25519.c pin this). It clears the low three bits
	 * and the top bit but does not set bit 254, so clamp here. */
	memcpy(k, scalar, WM_KEY_LEN);
	wm_x25519_clamp(k);
	memcpy(out, point, WM_KEY_LEN);
	/* RFC 7748 says to ignore the point's top bit. */
	out[WM_KEY_LEN - 1] &= 0x7f;
	ok = br_ec_c25519_m31.mul(out, WM_KEY_LEN, k, WM_KEY_LEN,
				  BR_EC_curve25519) == 1;
	ok = ok && !wm_ct_is_zero(out, WM_KEY_LEN);
	wm_memzero(k, sizeof(k));
	if (!ok)
		wm_memzero(out, WM_KEY_LEN);
	return ok;
}
