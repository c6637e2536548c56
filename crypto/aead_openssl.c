/* See aead.h. The OpenSSL 3 libcrypto backend (WM_CRYPTO=openssl). */
#include "crypto/aead.h"
#include "crypto/ct.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EVP takes int lengths; longer inputs go through in pieces. */
enum { CHUNK = 1 << 30 };

/* The cipher is fetched once for the process (an EVP_CIPHER is read-only
 * once fetched, so threads share it). Each thread that seals or opens gets
 * one EVP_CIPHER_CTX on first use, kept in thread-local storage and reused
 * for every packet after that (keyed anew each time), and freed by the
 * key's destructor when the thread exits. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *cipher;
static pthread_key_t ctx_key;
static _Thread_local EVP_CIPHER_CTX *ctx;
static char name[80];

/* Before any other OpenSSL call: no config file, no error strings and no
 * algorithm tables beyond what is fetched. The agent needs two
 * algorithms; the defaults map megabytes of libcrypto for the rest. */
__attribute__((constructor)) static void lean_init(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
				    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
				    OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
				    OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
			    NULL);
}

static void free_ctx(void *p)
{
	EVP_CIPHER_CTX_free(p);
}

static void setup(void)
{
	cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!cipher || pthread_key_create(&ctx_key, free_ctx) != 0) {
		fputs("wiremesh: OpenSSL has no ChaCha20-Poly1305\n", stderr);
		abort();
	}
	snprintf(name, sizeof(name), "chacha20-poly1305 openssl %s (EVP)",
		 OpenSSL_version(OPENSSL_VERSION_STRING));
}

/* This thread's context, keyed with key and nonce for enc (1: seal). Only
 * an allocation failure on a thread's first packet can fail, and sealing
 * has no way to report it: that aborts, as running out of memory there
 * leaves nothing sensible to send. */
static EVP_CIPHER_CTX *keyed(const uint8_t key[WM_AEAD_KEY],
			     const uint8_t nonce[WM_AEAD_NONCE], int enc)
{
	pthread_once(&once, setup);
	if (!ctx) {
		ctx = EVP_CIPHER_CTX_new();
		if (!ctx ||
		    EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
		    pthread_setspecific(ctx_key, ctx) != 0) {
			fputs("wiremesh: cannot set up ChaCha20-Poly1305\n",
			      stderr);
			abort();
		}
	}
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return NULL;
	return ctx;
}

static bool add_ad(EVP_CIPHER_CTX *c, const uint8_t *ad, size_t len)
{
	int n, o;

	for (; len > 0; ad += n, len -= (size_t)n) {
		n = len > CHUNK ? CHUNK : (int)len;
		if (EVP_CipherUpdate(c, NULL, &o, ad, n) != 1)
			return false;
	}
	return true;
}

static bool process(EVP_CIPHER_CTX *c, uint8_t *dst, const uint8_t *src,
		  size_t len)
{
	int n, o;

	for (; len > 0; dst += n, src += n, len -= (size_t)n) {
		n = len > CHUNK ? CHUNK : (int)len;
		if (EVP_CipherUpdate(c, dst, &o, src, n) != 1 || o != n)
			return false;
	}
	return true;
}

const char *wm_aead_impl_name(void)
{
	pthread_once(&once, setup);
	return name;
}

void wm_aead_seal_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY])
{
	EVP_CIPHER_CTX *c = keyed(key, nonce, 1);
	int o;

	if (!c || !add_ad(c, ad, adlen) || !process(c, dst, src, len) ||
	    EVP_CipherFinal_ex(c, dst + len, &o) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, WM_AEAD_TAG,
				dst + len) != 1) {
		/* Never happens with a fetched cipher and a valid context;
		 * should it, send nothing that could pass for a seal. */
		fputs("wiremesh: ChaCha20-Poly1305 seal failed\n", stderr);
		abort();
	}
}

bool wm_aead_open_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY])
{
	EVP_CIPHER_CTX *c;
	uint8_t want[WM_AEAD_TAG];
	size_t plen;
	int o;
	bool ok;

	if (len < WM_AEAD_TAG)
		return false;
	plen = len - WM_AEAD_TAG;
	/* Keep the received tag before an in-place decrypt can touch it. */
	memcpy(want, src + plen, WM_AEAD_TAG);
	c = keyed(key, nonce, 0);
	/* OpenSSL compares the tag with CRYPTO_memcmp (constant time) in
	 * EVP_CipherFinal_ex; a failed open leaves its plaintext in dst. */
	ok = c &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, WM_AEAD_TAG,
				 want) == 1 &&
	     add_ad(c, ad, adlen) && process(c, dst, src, plen) &&
	     EVP_CipherFinal_ex(c, dst + plen, &o) == 1;
	if (!ok && plen > 0)
		wm_memzero(dst, plen);
	return ok;
}
