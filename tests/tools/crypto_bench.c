/*
 * crypto_bench - one core's throughput of the data path's ChaCha20-Poly1305
 * and of X25519, per implementation, to choose the default backend by
 * measurement (crypto/aead.h, crypto/x25519.h).
 *
 *   crypto_bench [--seconds S] [--size BYTES]    (S per row, default 1)
 *
 * AEAD rows: "seal" is payload MB/s (10^6 bytes) sealed; "seal+open" is
 * payload MB/s when every packet is sealed and then opened (one sender's
 * and one receiver's work on one core). X25519 rows: scalar
 * multiplications per second with a fresh scalar and point, and, for
 * OpenSSL, the EVP_PKEY objects made and freed per call as crypto/ does.
 * "wm_*" rows go through crypto/ as built (WM_CRYPTO); the others call the
 * libraries directly. OpenSSL rows exist only in the OpenSSL build.
 * Exits 1 if an implementation disagrees with wm_* on its output.
 */
#include "crypto/aead.h"
#include "crypto/random.h"
#include "crypto/x25519.h"

#include <bearssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef WM_CRYPTO_OPENSSL
#include <openssl/evp.h>
#endif

/* Each row is the best of TRIALS runs of seconds / TRIALS: the machine
 * is shared, and the best run is the one least disturbed. */
enum { TRIALS = 5 };

static double seconds = 1;
static size_t size = 1440;
static int mismatches;

static double best(double a, double b)
{
	return a > b ? a : b;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One AEAD implementation: seal src into dst (len + 16 bytes), and open
 * it back (false on a bad tag). */
struct aead_impl {
	const char *name;
	void (*seal)(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t ctr,
		     const uint8_t key[32]);
	bool (*open)(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t ctr,
		     const uint8_t key[32]);
};

static void wm_seal(uint8_t *dst, const uint8_t *src, size_t len,
		    const uint8_t *ad, size_t adlen, uint64_t ctr,
		    const uint8_t key[32])
{
	wm_aead_seal(dst, src, len, ad, adlen, ctr, key);
}

static bool wm_open(uint8_t *dst, const uint8_t *src, size_t len,
		    const uint8_t *ad, size_t adlen, uint64_t ctr,
		    const uint8_t key[32])
{
	return wm_aead_open(dst, src, len, ad, adlen, ctr, key);
}

static void ctr_nonce(uint8_t n[12], uint64_t ctr)
{
	memset(n, 0, 4);
	for (int i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(ctr >> (8 * i));
}

/* BearSSL exactly as crypto/aead_bearssl.c calls it. */
static void br_seal(uint8_t *dst, const uint8_t *src, size_t len,
		    const uint8_t *ad, size_t adlen, uint64_t ctr,
		    const uint8_t key[32])
{
	br_chacha20_run c = br_chacha20_sse2_get();
	br_poly1305_run p = br_poly1305_ctmulq_get();
	uint8_t n[12];

	ctr_nonce(n, ctr);
	memcpy(dst, src, len);
	(p ? p : br_poly1305_ctmul_run)(key, n, dst, len, ad, adlen, dst + len,
					c ? c : br_chacha20_ct_run, 1);
}

static bool br_open(uint8_t *dst, const uint8_t *src, size_t len,
		    const uint8_t *ad, size_t adlen, uint64_t ctr,
		    const uint8_t key[32])
{
	br_chacha20_run c = br_chacha20_sse2_get();
	br_poly1305_run p = br_poly1305_ctmulq_get();
	uint8_t n[12], tag[16];

	ctr_nonce(n, ctr);
	memcpy(dst, src, len - 16);
	(p ? p : br_poly1305_ctmul_run)(key, n, dst, len - 16, ad, adlen, tag,
					c ? c : br_chacha20_ct_run, 0);
	return memcmp(tag, src + len - 16, 16) == 0;
}

#ifdef WM_CRYPTO_OPENSSL
/* OpenSSL EVP with one context made once, as crypto/aead_openssl.c. */
static EVP_CIPHER_CTX *evp_ctx;
static EVP_CIPHER *evp_cipher;

static void evp_seal(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t ctr,
		     const uint8_t key[32])
{
	uint8_t n[12];
	int o;

	ctr_nonce(n, ctr);
	if (EVP_EncryptInit_ex(evp_ctx, NULL, NULL, key, n) != 1 ||
	    EVP_EncryptUpdate(evp_ctx, NULL, &o, ad, (int)adlen) != 1 ||
	    EVP_EncryptUpdate(evp_ctx, dst, &o, src, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(evp_ctx, dst + o, &o) != 1 ||
	    EVP_CIPHER_CTX_ctrl(evp_ctx, EVP_CTRL_AEAD_GET_TAG, 16,
				dst + len) != 1)
		abort();
}

static bool evp_open(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t ctr,
		     const uint8_t key[32])
{
	uint8_t n[12];
	int o;

	ctr_nonce(n, ctr);
	return EVP_DecryptInit_ex(evp_ctx, NULL, NULL, key, n) == 1 &&
	       EVP_CIPHER_CTX_ctrl(evp_ctx, EVP_CTRL_AEAD_SET_TAG, 16,
				   (void *)(src + len - 16)) == 1 &&
	       EVP_DecryptUpdate(evp_ctx, NULL, &o, ad, (int)adlen) == 1 &&
	       EVP_DecryptUpdate(evp_ctx, dst, &o, src, (int)len - 16) == 1 &&
	       EVP_DecryptFinal_ex(evp_ctx, dst + o, &o) == 1;
}
#endif

static void bench_aead(const struct aead_impl *im)
{
	uint8_t key[32], ad[16], *pt, *ct, *back, *ref;
	uint64_t n, m;
	double t0, t_seal, t_both, best_seal = 0, best_both = 0;

	pt = malloc(size);
	ct = malloc(size + 16);
	back = malloc(size + 16);
	ref = malloc(size + 16);
	if (!pt || !ct || !back || !ref || wm_random_bytes(key, 32) ||
	    wm_random_bytes(ad, 16) || wm_random_bytes(pt, size))
		abort();

	/* Same bytes as crypto/ as built, and a round trip. */
	wm_aead_seal(ref, pt, size, ad, 16, 7, key);
	im->seal(ct, pt, size, ad, 16, 7, key);
	if (memcmp(ct, ref, size + 16) != 0 ||
	    !im->open(back, ct, size + 16, ad, 16, 7, key) ||
	    memcmp(back, pt, size) != 0) {
		printf("%-46s DISAGREES with wm_aead\n", im->name);
		mismatches++;
		goto out;
	}

	for (int r = 0; r < TRIALS; r++) {
		n = m = 0;
		t0 = now();
		do {
			for (int i = 0; i < 64; i++)
				im->seal(ct, pt, size, ad, 16, n++, key);
		} while ((t_seal = now() - t0) < seconds / TRIALS);
		t0 = now();
		do {
			for (int i = 0; i < 64; i++, m++) {
				im->seal(ct, pt, size, ad, 16, m, key);
				if (!im->open(back, ct, size + 16, ad, 16, m,
					      key))
					abort();
			}
		} while ((t_both = now() - t0) < seconds / TRIALS);
		best_seal = best(best_seal, (double)n * (double)size / t_seal);
		best_both = best(best_both, (double)m * (double)size / t_both);
	}
	printf("%-46s %10.0f %10.0f\n", im->name, best_seal / 1e6,
	       best_both / 1e6);
out:
	free(pt);
	free(ct);
	free(back);
	free(ref);
}

/* One X25519 implementation: out = X25519(k, p); false if refused. */
struct x_impl {
	const char *name;
	bool (*mul)(uint8_t out[32], const uint8_t k[32], const uint8_t p[32]);
};

static bool wm_mul(uint8_t out[32], const uint8_t k[32], const uint8_t p[32])
{
	return wm_x25519(out, k, p);
}

static bool br_mul_with(const br_ec_impl *ec, uint8_t out[32],
			const uint8_t k[32], const uint8_t p[32])
{
	uint8_t kk[32];

	memcpy(kk, k, 32);
	wm_x25519_clamp(kk);
	memcpy(out, p, 32);
	out[31] &= 0x7f;
	return ec->mul(out, 32, kk, 32, BR_EC_curve25519) == 1;
}

static bool br_m31(uint8_t out[32], const uint8_t k[32], const uint8_t p[32])
{
	return br_mul_with(&br_ec_c25519_m31, out, k, p);
}

static bool br_m15(uint8_t out[32], const uint8_t k[32], const uint8_t p[32])
{
	return br_mul_with(&br_ec_c25519_m15, out, k, p);
}

static bool br_i31(uint8_t out[32], const uint8_t k[32], const uint8_t p[32])
{
	return br_mul_with(&br_ec_c25519_i31, out, k, p);
}

#ifdef WM_CRYPTO_OPENSSL
/* Both keys made into EVP_PKEYs for each call, as a stateless
 * wm_x25519() must. */
static bool evp_mul(uint8_t out[32], const uint8_t k[32], const uint8_t p[32])
{
	EVP_PKEY *priv, *pub = NULL;
	EVP_PKEY_CTX *c = NULL;
	size_t olen = 32;
	bool ok = false;

	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, k, 32);
	if (priv)
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, p, 32);
	if (pub)
		c = EVP_PKEY_CTX_new(priv, NULL);
	if (c)
		ok = EVP_PKEY_derive_init(c) == 1 &&
		     EVP_PKEY_derive_set_peer(c, pub) == 1 &&
		     EVP_PKEY_derive(c, out, &olen) == 1 && olen == 32;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	return ok;
}
#endif

static void bench_x25519(const struct x_impl *im)
{
	uint8_t k[32], p[32], a[32], b[32];
	uint64_t n;
	double t0, t, rate = 0;

	if (wm_random_bytes(k, 32) || wm_random_bytes(p, 32))
		abort();
	wm_x25519_public(p, p);
	if (!wm_x25519(a, k, p) || !im->mul(b, k, p) || memcmp(a, b, 32)) {
		printf("%-46s DISAGREES with wm_x25519\n", im->name);
		mismatches++;
		return;
	}
	for (int r = 0; r < TRIALS; r++) {
		n = 0;
		t0 = now();
		do {
			for (int i = 0; i < 16; i++, n++) {
				/* Feed the output back: a fresh scalar and
				 * point each time. */
				if (!im->mul(b, k, p))
					abort();
				memcpy(k, p, 32);
				memcpy(p, b, 32);
			}
		} while ((t = now() - t0) < seconds / TRIALS);
		rate = best(rate, (double)n / t);
	}
	printf("%-46s %10.0f %10.1f\n", im->name, rate, 1e6 / rate);
}

int main(int argc, char **argv)
{
	char wm_aead_name[128], wm_x_name[128];
	struct aead_impl aeads[] = {
		{ wm_aead_name, wm_seal, wm_open },
		{ "bearssl sse2+ctmulq (direct)", br_seal, br_open },
#ifdef WM_CRYPTO_OPENSSL
		{ "openssl EVP, ctx reused (direct)", evp_seal, evp_open },
#endif
	};
	struct x_impl xs[] = {
		{ wm_x_name, wm_mul },
		{ "bearssl c25519_m31", br_m31 },
		{ "bearssl c25519_m15", br_m15 },
		{ "bearssl c25519_i31", br_i31 },
#ifdef WM_CRYPTO_OPENSSL
		{ "openssl EVP_PKEY, per call", evp_mul },
#endif
	};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = (size_t)atol(argv[++i]);
		else {
			fputs("usage: crypto_bench [--seconds S] [--size BYTES]\n",
			      stderr);
			return 2;
		}
	}
	if (size < 1 || size > 65536 || !(seconds > 0))
		return 2;
#ifdef WM_CRYPTO_OPENSSL
	evp_cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	evp_ctx = EVP_CIPHER_CTX_new();
	if (!evp_cipher || !evp_ctx ||
	    EVP_CipherInit_ex(evp_ctx, evp_cipher, NULL, NULL, NULL, 1) != 1)
		abort();
#endif
	snprintf(wm_aead_name, sizeof(wm_aead_name), "wm_aead: %s",
		 wm_aead_impl_name());
	snprintf(wm_x_name, sizeof(wm_x_name), "wm_x25519: %s",
		 wm_x25519_impl_name());

	printf("ChaCha20-Poly1305, %zu-byte packets, 16 bytes AD, one core\n",
	       size);
	printf("%-46s %10s %10s\n", "implementation", "seal MB/s",
	       "seal+open");
	for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++)
		bench_aead(&aeads[i]);
	printf("\nX25519 scalar multiplication, one core\n");
	printf("%-46s %10s %10s\n", "implementation", "ops/s", "us/op");
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
		bench_x25519(&xs[i]);
#ifdef WM_CRYPTO_OPENSSL
	EVP_CIPHER_CTX_free(evp_ctx);
	EVP_CIPHER_free(evp_cipher);
#endif
	return mismatches ? 1 : 0;
}
