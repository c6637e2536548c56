/* See x25519.h. The OpenSSL 3 libcrypto backend (WM_CRYPTO=openssl). */
#include "crypto/x25519.h"
#include "crypto/ct.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char name[80];

static void setup(void)
{
	snprintf(name, sizeof(name), "x25519 openssl %s (EVP_PKEY)",
		 OpenSSL_version(OPENSSL_VERSION_STRING));
}

const char *wm_x25519_impl_name(void)
{
	pthread_once(&once, setup);
	return name;
}

bool wm_x25519(uint8_t out[WM_KEY_LEN], const uint8_t scalar[WM_KEY_LEN],
	       const uint8_t point[WM_KEY_LEN])
{
	EVP_PKEY *priv = NULL, *pub = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t k[WM_KEY_LEN], p[WM_KEY_LEN];
	size_t olen = WM_KEY_LEN;
	bool ok = false;

	/* OpenSSL clamps the scalar itself; clamp anyway so that what it
	 * is given is already RFC 7748's decoded scalar. */
	memcpy(k, scalar, WM_KEY_LEN);
	wm_x25519_clamp(k);
	/* RFC 7748 says to ignore the point's top bit. */
	memcpy(p, point, WM_KEY_LEN);
	p[WM_KEY_LEN - 1] &= 0x7f;
	/* Both keys become EVP_PKEYs for this one call (a few small
	 * allocations): handshakes are rare next to packets. OpenSSL wipes
	 * the private key when freeing it. */
	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, k,
					    WM_KEY_LEN);
	if (!priv)
		goto out;
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, p,
					  WM_KEY_LEN);
	if (!pub)
		goto out;
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	/* OpenSSL refuses an all-zero result too; it is checked here
	 * regardless, as the BearSSL backend must. */
	ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
	     EVP_PKEY_derive_set_peer(ctx, pub) == 1 &&
	     EVP_PKEY_derive(ctx, out, &olen) == 1 && olen == WM_KEY_LEN &&
	     !wm_ct_is_zero(out, WM_KEY_LEN);
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	wm_memzero(k, sizeof(k));
	if (!ok)
		wm_memzero(out, WM_KEY_LEN);
	return ok;
}
