/*
 * HMAC-BLAKE2s and the WireGuard KDF. Expected values were computed with
 * Python: hmac.new(key, msg, hashlib.blake2s) for HMAC, and for KDF_n the
 * WireGuard paper's definition (t0 = HMAC(key, input); t1 = HMAC(t0, 0x1);
 * t2 = HMAC(t0, t1 || 0x2); t3 = HMAC(t0, t2 || 0x3)) over that HMAC.
 * The Noise construction constants are the ones every WireGuard
 * implementation derives (also checked with hashlib.blake2s).
 */
#include "check.h"
#include "crypto/blake2s.h"
#include "crypto/hkdf.h"

static void fill(uint8_t *buf, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(first + i);
}

static void hmac_case(const void *key, size_t keylen, const void *msg,
		      size_t msglen, const char *hex)
{
	uint8_t out[32], want[32];

	check_unhex(want, 32, hex);
	wm_hmac_blake2s(out, key, keylen, msg, msglen);
	CHECK_MEM(out, want, 32);
}

TEST(hmac_rfc4231_shaped_inputs)
{
	uint8_t k[32], m[50];

	/* RFC 4231 cases 1-3 inputs, BLAKE2s-256 as the hash. */
	memset(k, 0x0b, 20);
	hmac_case(k, 20, "Hi There", 8,
		  "65a8b7c5cc9136d424e82c37e2707e74e913c0655b99c75f40edf387453a3260");
	hmac_case("Jefe", 4, "what do ya want for nothing?", 28,
		  "90b6281e2f3038c9056af0b4a7e763cae6fe5d9eb4386a0ec95237890c104ff0");
	memset(k, 0xaa, 32);
	memset(m, 0xdd, 50);
	hmac_case(k, 32, m, 50,
		  "bc7607e3aa910af0aa4e5ee14250cf4336dbde58535b02ce7bbae54f61c80082");
}

TEST(hmac_edges)
{
	uint8_t k[64], m[200];

	/* A full-block key (the largest allowed) and a multi-block message. */
	fill(k, 64, 0);
	fill(m, 200, 0);
	hmac_case(k, 64, m, 200,
		  "690ee478866a3698f0ed2e87e8b25fcb63e56f6c2e6baa69acec75b6d645d1ae");
	hmac_case("", 0, "", 0,
		  "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd");
	hmac_case(k, 32, "", 0,
		  "e2641d24dfa8dd89e8cb77f1cdc77d8c006e5bebdfc4d6a3a3a6f8d5b7586fb0");
}

TEST(hmac_output_may_alias_input)
{
	uint8_t key[32], buf[33], want[32];

	/* wm_kdf relies on this: out overwrites the message it was made of. */
	fill(key, 32, 0);
	fill(buf, 33, 0x80);
	wm_hmac_blake2s(want, key, 32, buf, 33);
	wm_hmac_blake2s(buf, key, 32, buf, 33);
	CHECK_MEM(buf, want, 32);
}

static void kdf_case(const uint8_t key[32], const void *in, size_t inlen,
		     const char *h1, const char *h2, const char *h3)
{
	uint8_t w1[32], w2[32], w3[32], t1[32], t2[32], t3[32];

	check_unhex(w1, 32, h1);
	check_unhex(w2, 32, h2);
	check_unhex(w3, 32, h3);

	memset(t1, 0, 32);
	wm_kdf(t1, NULL, NULL, key, in, inlen);
	CHECK_MEM(t1, w1, 32);

	memset(t1, 0, 32);
	memset(t2, 0, 32);
	wm_kdf(t1, t2, NULL, key, in, inlen);
	CHECK_MEM(t1, w1, 32);
	CHECK_MEM(t2, w2, 32);

	memset(t1, 0, 32);
	memset(t2, 0, 32);
	memset(t3, 0, 32);
	wm_kdf(t1, t2, t3, key, in, inlen);
	CHECK_MEM(t1, w1, 32);
	CHECK_MEM(t2, w2, 32);
	CHECK_MEM(t3, w3, 32);
}

TEST(kdf_known_answers)
{
	uint8_t key[32], in[64];

	memset(key, 0, 32);
	kdf_case(key, "", 0,
		 "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
		 "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
		 "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e");

	/* The initial chaining key mixing in a 32-byte value, as the
	 * handshake does with an ephemeral public key. */
	check_unhex(key, 32,
		    "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	fill(in, 32, 0);
	kdf_case(key, in, 32,
		 "6ff66e10ab4a55ac8144a867fcd9f8ee64d4bd6239223338cb3437cf085ab031",
		 "203b22d63d63e35cebb9e40210cf8c1d7f90879428a4c766cda9ef34bb299398",
		 "35a7b2fc3e4f59db341dbe588e3b75897980c463d5bbb855f8ed8134ff40133a");

	/* A 64-byte input: more than one BLAKE2s block after the ipad. */
	fill(key, 32, 0);
	fill(in, 64, 0x20);
	kdf_case(key, in, 64,
		 "ade74bff75355dd0646061fcf4fe0c8738485c84681b402ee1af2e29085437eb",
		 "a014d8ba0bf3d035a556a879f2e3bc35c32e0d08173419699dead6ea0afdc3a7",
		 "b3b8c81411d46d924f37e641b4cf2204c5419005fc095afa03a673f82f2f553f");
}

TEST(kdf_matches_hmac_chain)
{
	/* The definition itself, through our own HMAC, for an input that
	 * aliases nothing: guards the buffer juggling inside wm_kdf. */
	uint8_t key[32], in[40], t0[32], m[33], w1[32], w2[32], w3[32];
	uint8_t t1[32], t2[32], t3[32];

	fill(key, 32, 0x40);
	fill(in, 40, 0x90);
	wm_hmac_blake2s(t0, key, 32, in, 40);
	m[0] = 1;
	wm_hmac_blake2s(w1, t0, 32, m, 1);
	memcpy(m, w1, 32);
	m[32] = 2;
	wm_hmac_blake2s(w2, t0, 32, m, 33);
	memcpy(m, w2, 32);
	m[32] = 3;
	wm_hmac_blake2s(w3, t0, 32, m, 33);
	wm_kdf(t1, t2, t3, key, in, 40);
	CHECK_MEM(t1, w1, 32);
	CHECK_MEM(t2, w2, 32);
	CHECK_MEM(t3, w3, 32);
}

TEST(wireguard_construction_constants)
{
	static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t ck[32], h[32], want[32];
	struct wm_blake2s s;

	wm_blake2s(ck, 32, construction, sizeof(construction) - 1, NULL, 0);
	check_unhex(want, 32,
		    "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	CHECK_MEM(ck, want, 32);

	wm_blake2s_init(&s, 32, NULL, 0);
	wm_blake2s_update(&s, ck, 32);
	wm_blake2s_update(&s, identifier, sizeof(identifier) - 1);
	wm_blake2s_final(&s, h);
	check_unhex(want, 32,
		    "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
	CHECK_MEM(h, want, 32);
}

int main(void)
{
	RUN(hmac_rfc4231_shaped_inputs);
	RUN(hmac_edges);
	RUN(hmac_output_may_alias_input);
	RUN(kdf_known_answers);
	RUN(kdf_matches_hmac_chain);
	RUN(wireguard_construction_constants);
	return check_summary();
}
