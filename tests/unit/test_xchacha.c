/*
 * HChaCha20 and XChaCha20-Poly1305 against draft-irtf-cfrg-xchacha-03
 * (section 2.2.1 and Appendix A.3.1), the construction checked against
 * its definition over wm_aead, and rejection of every kind of tampering.
 */
#include "check.h"
#include "crypto/aead.h"
#include "crypto/xchacha.h"

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only "
	"one tip for the future, sunscreen would be it.";
enum { N = sizeof(sunscreen) - 1 };	/* 114 bytes */

struct vec {
	uint8_t key[32], nonce[24], ad[12], sealed[N + 16];
	size_t adlen;
};

static void a_3_1(struct vec *v)
{
	for (int i = 0; i < 32; i++)
		v->key[i] = (uint8_t)(0x80 + i);
	check_unhex(v->nonce, 24,
		    "404142434445464748494a4b4c4d4e4f5051525354555657");
	v->adlen = check_unhex(v->ad, 12, "50515253c0c1c2c3c4c5c6c7");
	check_unhex(v->sealed, sizeof(v->sealed),
		"bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
		"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
		"2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
		"21f9664c97637da9768812f615c68b13b52e"
		"c0875924c1c7987947deafd8780acf49");
}

TEST(hchacha20_2_2_1)
{
	uint8_t key[32], nonce[16], out[32], want[32];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	check_unhex(nonce, 16, "000000090000004a0000000031415927");
	check_unhex(want, 32, "82413b4227b27bfed30e42508a877d73"
			      "a0f9e4d58a74a853c12ec41326d3ecdc");
	wm_hchacha20(out, key, nonce);
	CHECK_MEM(out, want, 32);
}

TEST(xchacha20_poly1305_a_3_1)
{
	struct vec v;
	uint8_t buf[N + 16], out[N + 16];

	a_3_1(&v);
	memset(out, 0, sizeof(out));
	wm_xaead_seal(out, (const uint8_t *)sunscreen, N, v.ad, v.adlen,
		      v.nonce, v.key);
	CHECK_MEM(out, v.sealed, N + 16);

	memcpy(buf, sunscreen, N);
	wm_xaead_seal(buf, buf, N, v.ad, v.adlen, v.nonce, v.key);
	CHECK_MEM(buf, v.sealed, N + 16);

	memset(out, 0, sizeof(out));
	CHECK(wm_xaead_open(out, v.sealed, N + 16, v.ad, v.adlen, v.nonce,
			    v.key));
	CHECK_MEM(out, sunscreen, N);

	memcpy(buf, v.sealed, N + 16);
	CHECK(wm_xaead_open(buf, buf, N + 16, v.ad, v.adlen, v.nonce, v.key));
	CHECK_MEM(buf, sunscreen, N);
}

TEST(construction_is_hchacha_then_chacha20_poly1305)
{
	/* The draft's definition: subkey from the first 16 nonce bytes, then
	 * the IETF AEAD with nonce 00000000 || the last 8. */
	uint8_t key[32], nonce[24], sub[32], n12[12] = { 0 };
	uint8_t a[50], b[50], pt[34];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0xc0 ^ i);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x11 * i);
	memcpy(pt, sunscreen, sizeof(pt));
	wm_hchacha20(sub, key, nonce);
	memcpy(n12 + 4, nonce + 16, 8);
	wm_xaead_seal(a, pt, sizeof(pt), "ad", 2, nonce, key);
	wm_aead_seal_nonce(b, pt, sizeof(pt), "ad", 2, n12, sub);
	CHECK_MEM(a, b, sizeof(a));

	/* An empty message seals to a tag alone and opens again. */
	wm_xaead_seal(a, pt, 0, NULL, 0, nonce, key);
	wm_aead_seal_nonce(b, pt, 0, NULL, 0, n12, sub);
	CHECK_MEM(a, b, 16);
	CHECK(wm_xaead_open(b, a, 16, NULL, 0, nonce, key));
	for (size_t n = 0; n < 16; n++)
		CHECK(!wm_xaead_open(b, a, n, NULL, 0, nonce, key));
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Opens a tampered copy both ways; it must fail and leave zeros. */
static void reject(const struct vec *v, const uint8_t *sealed)
{
	uint8_t buf[N + 16], out[N + 17];

	memset(out, 0xee, sizeof(out));
	CHECK(!wm_xaead_open(out, sealed, N + 16, v->ad, v->adlen, v->nonce,
			     v->key));
	CHECK(all_zero(out, N));
	CHECK(out[N] == 0xee);

	memcpy(buf, sealed, N + 16);
	CHECK(!wm_xaead_open(buf, buf, N + 16, v->ad, v->adlen, v->nonce,
			     v->key));
	CHECK(all_zero(buf, N));
}

static void flip(uint8_t *p, int bit)
{
	p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

TEST(tampering_rejected)
{
	struct vec v;
	uint8_t t[N + 16];

	a_3_1(&v);
	for (int bit = 0; bit < 256; bit += 29) {
		flip(v.key, bit);
		reject(&v, v.sealed);
		flip(v.key, bit);
	}
	/* The first 16 nonce bytes reach only HChaCha20's input, the last 8
	 * only ChaCha20's: both halves must count. */
	for (int bit = 0; bit < 128; bit += 13) {
		flip(v.nonce, bit);
		reject(&v, v.sealed);
		flip(v.nonce, bit);
	}
	for (int bit = 128; bit < 192; bit += 7) {
		flip(v.nonce, bit);
		reject(&v, v.sealed);
		flip(v.nonce, bit);
	}
	for (int bit = 0; bit < 128; bit += 11) {
		memcpy(t, v.sealed, sizeof(t));
		flip(t + N, bit);
		reject(&v, t);
	}
	for (int bit = 0; bit < 8 * N; bit += 37) {
		memcpy(t, v.sealed, sizeof(t));
		flip(t, bit);
		reject(&v, t);
	}
	for (int bit = 0; bit < 96; bit += 17) {
		flip(v.ad, bit);
		reject(&v, v.sealed);
		flip(v.ad, bit);
	}
	v.adlen = 0;
	reject(&v, v.sealed);
}

int main(void)
{
	RUN(hchacha20_2_2_1);
	RUN(xchacha20_poly1305_a_3_1);
	RUN(construction_is_hchacha_then_chacha20_poly1305);
	RUN(tampering_rejected);
	return check_summary();
}
