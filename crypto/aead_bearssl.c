/* See aead.h. The BearSSL backend (WM_CRYPTO=bearssl). */
#include "crypto/aead.h"
#include "crypto/ct.h"

#include <bearssl.h>
#include <string.h>

static br_chacha20_run chacha_impl(void)
{
	br_chacha20_run f = br_chacha20_sse2_get();
	return f ? f : br_chacha20_ct_run;
}

static br_poly1305_run poly_impl(void)
{
	br_poly1305_run f = br_poly1305_ctmulq_get();
	return f ? f : br_poly1305_ctmul_run;
}

const char *wm_aead_impl_name(void)
{
	if (br_chacha20_sse2_get() && br_poly1305_ctmulq_get())
		return "chacha20-poly1305 bearssl (chacha20_sse2+poly1305_ctmulq)";
	return "chacha20-poly1305 bearssl (chacha20_ct+poly1305_ctmul)";
}

void wm_aead_seal_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY])
{
	if (dst != src && len > 0)
		memmove(dst, src, len);
	poly_impl()(key, nonce, dst, len, ad, adlen, dst + len, chacha_impl(),
		    1);
}

bool wm_aead_open_nonce(uint8_t *dst, const uint8_t *src, size_t len,
			const void *ad, size_t adlen,
			const uint8_t nonce[WM_AEAD_NONCE],
			const uint8_t key[WM_AEAD_KEY])
{
	uint8_t tag[WM_AEAD_TAG], want[WM_AEAD_TAG];
	size_t plen;

	if (len < WM_AEAD_TAG)
		return false;
	plen = len - WM_AEAD_TAG;
	/* Keep the received tag before an in-place decrypt can touch it. */
	memcpy(want, src + plen, WM_AEAD_TAG);
	if (dst != src && plen > 0)
		memmove(dst, src, plen);
	poly_impl()(key, nonce, dst, plen, ad, adlen, tag, chacha_impl(), 0);
	if (!wm_ct_memeq(tag, want, WM_AEAD_TAG)) {
		if (plen > 0)
			wm_memzero(dst, plen);
		return false;
	}
	return true;
}
