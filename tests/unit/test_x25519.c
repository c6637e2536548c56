/* X25519 against RFC 7748 section 5.2 and 6.1, zero-result rejection, and
 * random scalars and points against BearSSL's c25519_i31 called directly. */
#include "check.h"
#include "crypto/x25519.h"

#include <bearssl.h>

static void vector(const char *k, const char *u, const char *want)
{
	uint8_t kb[32], ub[32], wb[32], out[32];

	check_unhex(kb, 32, k);
	check_unhex(ub, 32, u);
	check_unhex(wb, 32, want);
	CHECK(wm_x25519(out, kb, ub));
	CHECK_MEM(out, wb, 32);
}

TEST(rfc7748_5_2)
{
	vector("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	vector("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

TEST(rfc7748_iterated_1000)
{
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32], want[32];

	for (int i = 0; i < 1000; i++) {
		CHECK(wm_x25519(r, k, u));
		memcpy(u, k, 32);
		memcpy(k, r, 32);
	}
	check_unhex(want, 32,
		    "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	CHECK_MEM(k, want, 32);
}

TEST(rfc7748_6_1_diffie_hellman)
{
	uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32], want[32];

	check_unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	check_unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	wm_x25519_public(pa, a);
	wm_x25519_public(pb, b);
	check_unhex(want, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	CHECK_MEM(pa, want, 32);
	check_unhex(want, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	CHECK_MEM(pb, want, 32);
	CHECK(wm_x25519(s1, a, pb));
	CHECK(wm_x25519(s2, b, pa));
	check_unhex(want, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	CHECK_MEM(s1, want, 32);
	CHECK_MEM(s2, want, 32);
}

TEST(low_order_points_rejected)
{
	/* Points of small order make every scalar give zero. */
	static const char *pts[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t k[32], u[32], out[32];

	check_unhex(k, 32, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		check_unhex(u, 32, pts[i]);
		CHECK(!wm_x25519(out, k, u));
	}
}

TEST(flipped_bit_changes_result)
{
	uint8_t a[32], b[32], pb[32], s1[32], s2[32];

	check_unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	check_unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	wm_x25519_public(pb, b);
	CHECK(wm_x25519(s1, a, pb));
	a[10] ^= 0x10;
	CHECK(wm_x25519(s2, a, pb));
	CHECK(memcmp(s1, s2, 32) != 0);
}

TEST(matches_bearssl_random)
{
	uint64_t seed = 0x243f6a8885a308d3ULL;
	uint8_t k[32], u[32], want[32], got[32];

	for (int n = 0; n < 64; n++) {
		for (int i = 0; i < 64; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			(i < 32 ? k : u)[i % 32] = (uint8_t)seed;
		}
		/* Half the points with the top bit set, which is ignored. */
		u[31] = (uint8_t)(n & 1 ? u[31] | 0x80 : u[31] & 0x7f);
		CHECK(wm_x25519(got, k, u));
		wm_x25519_clamp(k);
		memcpy(want, u, 32);
		want[31] &= 0x7f;
		CHECK(br_ec_c25519_i31.mul(want, 32, k, 32, BR_EC_curve25519));
		CHECK_MEM(got, want, 32);
	}
}

TEST(impl_name)
{
	CHECK(strstr(wm_x25519_impl_name(), "x25519") != NULL);
}

int main(void)
{
	RUN(rfc7748_5_2);
	RUN(rfc7748_iterated_1000);
	RUN(rfc7748_6_1_diffie_hellman);
	RUN(low_order_points_rejected);
	RUN(flipped_bit_changes_result);
	RUN(matches_bearssl_random);
	RUN(impl_name);
	return check_summary();
}
