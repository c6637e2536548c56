/*
 * ChaCha20-Poly1305 against RFC 8439 section 2.8.2 (sealing) and Appendix
 * A.5 (opening), in place and out of place; WireGuard's counter nonce; an
 * empty plaintext; and rejection of every kind of tampering. The vectors
 * not printed in the RFC (empty plaintext, counter form) were computed
 * with Python's cryptography package (OpenSSL's ChaCha20Poly1305).
 * Then random inputs of many lengths against BearSSL called directly (a
 * second implementation in the OpenSSL build, fixed seed), and two threads
 * sealing and opening at once (each has its own OpenSSL context).
 */
#include "check.h"
#include "crypto/aead.h"

#include <bearssl.h>
#include <pthread.h>

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only "
	"one tip for the future, sunscreen would be it.";
enum { SUN_LEN = sizeof(sunscreen) - 1 };	/* 114 bytes */

static const char rfc_2_8_2_sealed[] =
	"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	"3ff4def08e4b7a9de576d26586cec64b6116"
	"1ae10b594f09e26a7e902ecbd0600691";

struct vec {
	uint8_t key[32], nonce[12], ad[12];
	uint8_t pt[300], sealed[316];
	size_t ptlen, adlen;
};

static void rfc_2_8_2(struct vec *v)
{
	for (int i = 0; i < 32; i++)
		v->key[i] = (uint8_t)(0x80 + i);
	check_unhex(v->nonce, 12, "070000004041424344454647");
	v->adlen = check_unhex(v->ad, 12, "50515253c0c1c2c3c4c5c6c7");
	memcpy(v->pt, sunscreen, SUN_LEN);
	v->ptlen = SUN_LEN;
	check_unhex(v->sealed, sizeof(v->sealed), rfc_2_8_2_sealed);
}

static void rfc_a_5(struct vec *v)
{
	check_unhex(v->key, 32, "1c9240a5eb55d38af333888604f6b5f0"
				"473917c1402b80099dca5cbc207075c0");
	check_unhex(v->nonce, 12, "000000000102030405060708");
	v->adlen = check_unhex(v->ad, 12, "f33388860000000000004e91");
	v->ptlen = check_unhex(v->pt, sizeof(v->pt),
		"496e7465726e65742d4472616674732061726520647261667420646f63756d65"
		"6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
		"6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
		"65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
		"6e747320617420616e792074696d652e20497420697320696e617070726f7072"
		"6961746520746f2075736520496e7465726e65742d4472616674732061732072"
		"65666572656e6365206d6174657269616c206f7220746f206369746520746865"
		"6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
		"726573732e2fe2809d");
	check_unhex(v->sealed, sizeof(v->sealed),
		"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
		"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
		"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
		"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
		"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
		"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
		"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
		"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
		"a6ad5cb4022b02709b"
		"eead9d67890cbb22392336fea1851f38");
}

/* Seal and open, each both out of place and in place. */
static void both_ways(const struct vec *v)
{
	uint8_t buf[316], out[316];
	size_t n = v->ptlen;

	memset(out, 0, sizeof(out));
	wm_aead_seal_nonce(out, v->pt, n, v->ad, v->adlen, v->nonce, v->key);
	CHECK_MEM(out, v->sealed, n + 16);

	memcpy(buf, v->pt, n);
	wm_aead_seal_nonce(buf, buf, n, v->ad, v->adlen, v->nonce, v->key);
	CHECK_MEM(buf, v->sealed, n + 16);

	memset(out, 0, sizeof(out));
	CHECK(wm_aead_open_nonce(out, v->sealed, n + 16, v->ad, v->adlen,
				 v->nonce, v->key));
	CHECK_MEM(out, v->pt, n);

	memcpy(buf, v->sealed, n + 16);
	CHECK(wm_aead_open_nonce(buf, buf, n + 16, v->ad, v->adlen, v->nonce,
				 v->key));
	CHECK_MEM(buf, v->pt, n);
}

TEST(rfc8439_2_8_2)
{
	struct vec v;

	rfc_2_8_2(&v);
	both_ways(&v);
}

TEST(rfc8439_a_5_decryption)
{
	struct vec v;

	rfc_a_5(&v);
	CHECK(v.ptlen == 265);
	both_ways(&v);
}

TEST(wireguard_counter_nonce)
{
	uint8_t key[32], nonce[12], ad[12], a[60], b[60], want[56], pt[40];
	const uint64_t ctr = 0x0102030405060708ull;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	memcpy(pt, sunscreen, 40);
	/* 32 zero bits, then the counter little-endian. */
	check_unhex(nonce, 12, "000000000807060504030201");
	wm_aead_seal(a, pt, 40, "ad", 2, ctr, key);
	wm_aead_seal_nonce(b, pt, 40, "ad", 2, nonce, key);
	CHECK_MEM(a, b, 56);

	/* With the RFC's AD, against OpenSSL. */
	check_unhex(want, 56,
		"b8d08ad235a97bbc4dd551cc6b1911b3961e31851245f58e7f581dbe0627e811"
		"f7465bd39dd94d55f71640bcaf892bdb2f0423c8b9a37828");
	check_unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
	wm_aead_seal(a, pt, 40, ad, 12, ctr, key);
	CHECK_MEM(a, want, 56);
	memset(b, 0xee, sizeof(b));
	CHECK(wm_aead_open(b, a, 56, ad, 12, ctr, key));
	CHECK_MEM(b, pt, 40);
	CHECK(!wm_aead_open(b, a, 56, ad, 12, ctr + 1, key));
	CHECK(!wm_aead_open(b, a, 56, ad, 12, ctr ^ (1ull << 63), key));
	CHECK(!wm_aead_open(b, a, 56, ad, 12, ctr ^ (1ull << 32), key));

	/* Counter zero is the all-zero nonce. */
	memset(nonce, 0, 12);
	wm_aead_seal(a, pt, 40, NULL, 0, 0, key);
	wm_aead_seal_nonce(b, pt, 40, NULL, 0, nonce, key);
	CHECK_MEM(a, b, 56);
}

TEST(empty_plaintext)
{
	uint8_t key[32], nonce[12], ad[12], tag[16], want[16], pt[1], dst[1];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	check_unhex(nonce, 12, "070000004041424344454647");
	check_unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");

	/* A keepalive: the sealed message is the tag alone. */
	check_unhex(want, 16, "a0784d7a4716f3feb4f64e7f4b39bf04");
	wm_aead_seal_nonce(tag, pt, 0, NULL, 0, nonce, key);
	CHECK_MEM(tag, want, 16);
	CHECK(wm_aead_open_nonce(dst, tag, 16, NULL, 0, nonce, key));

	check_unhex(want, 16, "e622e5647a38d967a7ecbcb46c7f675c");
	wm_aead_seal_nonce(tag, pt, 0, ad, 12, nonce, key);
	CHECK_MEM(tag, want, 16);
	CHECK(wm_aead_open_nonce(dst, tag, 16, ad, 12, nonce, key));
	CHECK(!wm_aead_open_nonce(dst, tag, 16, NULL, 0, nonce, key));
	tag[15] ^= 0x80;
	CHECK(!wm_aead_open_nonce(dst, tag, 16, ad, 12, nonce, key));

	/* Shorter than a tag is never valid. */
	for (size_t n = 0; n < 16; n++)
		CHECK(!wm_aead_open_nonce(dst, tag, n, ad, 12, nonce, key));
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
	uint8_t buf[316], out[316];
	size_t n = v->ptlen;

	memset(out, 0xee, sizeof(out));
	CHECK(!wm_aead_open_nonce(out, sealed, n + 16, v->ad, v->adlen,
				  v->nonce, v->key));
	CHECK(all_zero(out, n));
	/* Nothing past the plaintext is written. */
	CHECK(out[n] == 0xee);

	memcpy(buf, sealed, n + 16);
	CHECK(!wm_aead_open_nonce(buf, buf, n + 16, v->ad, v->adlen, v->nonce,
				  v->key));
	CHECK(all_zero(buf, n));
}

static void flip(uint8_t *p, int bit)
{
	p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

TEST(tampering_rejected)
{
	struct vec v;
	uint8_t t[316];

	for (int which = 0; which < 2; which++) {
		if (which == 0)
			rfc_2_8_2(&v);
		else
			rfc_a_5(&v);
		size_t n = v.ptlen;

		/* The untampered message opens: the failures below are the
		 * flip's doing. */
		memcpy(t, v.sealed, n + 16);
		CHECK(wm_aead_open_nonce(t, t, n + 16, v.ad, v.adlen, v.nonce,
					 v.key));

		for (int bit = 0; bit < 256; bit += 51) {
			flip(v.key, bit);
			reject(&v, v.sealed);
			flip(v.key, bit);
		}
		for (int bit = 0; bit < 96; bit += 19) {
			flip(v.nonce, bit);
			reject(&v, v.sealed);
			flip(v.nonce, bit);
		}
		for (int bit = 0; bit < 128; bit += 17) {
			memcpy(t, v.sealed, n + 16);
			flip(t + n, bit);
			reject(&v, t);
		}
		for (int bit = 0; bit < (int)(8 * n); bit += 37) {
			memcpy(t, v.sealed, n + 16);
			flip(t, bit);
			reject(&v, t);
		}
		for (int bit = 0; bit < 96; bit += 23) {
			flip(v.ad, bit);
			reject(&v, v.sealed);
			flip(v.ad, bit);
		}
		/* A truncated AD, and a message one byte short. */
		v.adlen--;
		reject(&v, v.sealed);
		v.adlen++;
		CHECK(!wm_aead_open_nonce(t, v.sealed, n + 15, v.ad, v.adlen,
					  v.nonce, v.key));
	}
}

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		p[i] = (uint8_t)seed;
	}
}

/* What BearSSL's portable code gives for the same inputs. */
static void br_seal_ref(uint8_t *dst, const uint8_t *src, size_t len,
			const uint8_t *ad, size_t adlen, const uint8_t n[12],
			const uint8_t key[32])
{
	memcpy(dst, src, len);
	br_poly1305_ctmul_run(key, n, dst, len, ad, adlen, dst + len,
			      br_chacha20_ct_run, 1);
}

TEST(matches_bearssl_random)
{
	static const size_t big[] = { 1420, 1440, 4095, 4096, 65535 };
	static uint8_t pt[65536], got[65536 + 16], want[65536 + 16];
	uint8_t key[32], nonce[12], ad[64];

	for (size_t k = 0; k < 300 + sizeof(big) / sizeof(big[0]); k++) {
		size_t len = k < 300 ? k : big[k - 300], adlen = k % 41;

		fill(key, 32);
		fill(nonce, 12);
		fill(ad, adlen);
		fill(pt, len);
		br_seal_ref(want, pt, len, ad, adlen, nonce, key);
		wm_aead_seal_nonce(got, pt, len, ad, adlen, nonce, key);
		CHECK_MEM(got, want, len + 16);
		CHECK(wm_aead_open_nonce(got, got, len + 16, ad, adlen, nonce,
					 key));
		CHECK_MEM(got, pt, len);
		if (check_case_failed)
			break;
	}
}

/* Each thread seals and opens its own stream; all must round-trip and
 * match a seal made on the main thread. */
struct job {
	uint8_t key[32];
	uint8_t want[1440 + 16];
	int ok;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	uint8_t pt[1440], buf[1440 + 16];

	memset(pt, 0x5c, sizeof(pt));
	j->ok = 1;
	for (uint64_t c = 0; c < 2000; c++) {
		wm_aead_seal(buf, pt, sizeof(pt), "ad", 2, c, j->key);
		if (c == 7 && memcmp(buf, j->want, sizeof(buf)) != 0)
			j->ok = 0;
		if (!wm_aead_open(buf, buf, sizeof(buf), "ad", 2, c, j->key) ||
		    memcmp(buf, pt, sizeof(pt)) != 0)
			j->ok = 0;
	}
	return NULL;
}

TEST(threads)
{
	struct job jobs[2];
	pthread_t th[2];
	uint8_t pt[1440];

	memset(pt, 0x5c, sizeof(pt));
	for (int i = 0; i < 2; i++) {
		fill(jobs[i].key, 32);
		wm_aead_seal(jobs[i].want, pt, sizeof(pt), "ad", 2, 7,
			     jobs[i].key);
	}
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
	for (int i = 0; i < 2; i++) {
		CHECK(pthread_join(th[i], NULL) == 0);
		CHECK(jobs[i].ok);
	}
}

TEST(impl_name)
{
	const char *s = wm_aead_impl_name();

	CHECK(s != NULL && strstr(s, "chacha20") && strstr(s, "poly1305"));
}

int main(void)
{
	RUN(rfc8439_2_8_2);
	RUN(rfc8439_a_5_decryption);
	RUN(wireguard_counter_nonce);
	RUN(empty_plaintext);
	RUN(tampering_rejected);
	RUN(matches_bearssl_random);
	RUN(threads);
	RUN(impl_name);
	return check_summary();
}
