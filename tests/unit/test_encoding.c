/*
 * Key encodings: base64 as wg prints it, base64url for URLs, hex for the
 * UAPI; and the constant-time helpers of ct.h. Expected encodings were
 * produced with Python's base64.b64encode / urlsafe_b64encode and
 * bytes.hex().
 */
#include "check.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

static const struct {
	const char *hex, *b64, *url;
} keys[] = {
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
	{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	  "//////////////////////////////////////////8=",
	  "__________________________________________8=" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" },
	{ "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	  "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=",
	  "4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8=" },
	/* RFC 7748 section 6.1, Alice's private key. */
	{ "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	  "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=",
	  "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=" },
	/* '+' and '/', the two symbols the URL alphabet replaces. */
	{ "fbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbf0",
	  "+++++++++++++++++++++++++++++++++++++++++/A=",
	  "-----------------------------------------_A=" },
};
enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };

TEST(base64_matches_python_and_round_trips)
{
	uint8_t key[32], back[32];
	char b64[WM_KEY_B64_LEN + 1];

	for (size_t i = 0; i < NKEYS; i++) {
		check_unhex(key, 32, keys[i].hex);
		memset(b64, 'x', sizeof(b64));
		wm_key_to_base64(b64, key);
		CHECK(strcmp(b64, keys[i].b64) == 0);
		memset(back, 0x5a, 32);
		CHECK(wm_key_from_base64(back, keys[i].b64));
		CHECK_MEM(back, key, 32);
	}
}

TEST(base64url_accepts_url_alphabet_and_missing_padding)
{
	uint8_t key[32], back[32];
	char s[WM_KEY_B64_LEN + 1];

	for (size_t i = 0; i < NKEYS; i++) {
		check_unhex(key, 32, keys[i].hex);
		memset(back, 0x5a, 32);
		CHECK(wm_key_from_base64url(back, keys[i].url));
		CHECK_MEM(back, key, 32);
		/* Without the '='. */
		memcpy(s, keys[i].url, 43);
		s[43] = '\0';
		memset(back, 0x5a, 32);
		CHECK(wm_key_from_base64url(back, s));
		CHECK_MEM(back, key, 32);
		/* The standard alphabet is fine too. */
		memset(back, 0x5a, 32);
		CHECK(wm_key_from_base64url(back, keys[i].b64));
		CHECK_MEM(back, key, 32);
	}
	/* The strict decoder is not the URL one. */
	CHECK(!wm_key_from_base64(key, keys[1].url));
	CHECK(!wm_key_from_base64(key, keys[3].url));
}

TEST(base64_rejects_bad_shapes)
{
	const char *good = keys[4].b64;
	char s[64];
	uint8_t key[32];

	CHECK(!wm_key_from_base64(key, ""));
	/* 43 characters: the padding missing. */
	memcpy(s, good, 43);
	s[43] = '\0';
	CHECK(!wm_key_from_base64(key, s));
	/* 44 characters without '=' at the end. */
	memcpy(s, good, 44);
	s[44] = '\0';
	s[43] = 'A';
	CHECK(!wm_key_from_base64(key, s));
	/* 45 characters: one too many, with '=' in either place. */
	memcpy(s, good, 45);
	s[44] = '=';
	s[45] = '\0';
	CHECK(!wm_key_from_base64(key, s));
	memcpy(s, good, 44);
	s[43] = 'A';
	s[44] = '=';
	s[45] = '\0';
	CHECK(!wm_key_from_base64(key, s));
	/* Two '=' (as for a 31-byte value) and a trailing newline. */
	strcpy(s, good);
	s[42] = '=';
	CHECK(!wm_key_from_base64(key, s));
	strcpy(s, good);
	strcat(s, "\n");
	CHECK(!wm_key_from_base64(key, s));
}

TEST(base64_rejects_characters_outside_the_alphabet)
{
	/* The URL alphabet's two symbols come first; see the last loop. */
	static const char bad[] = "-_*. =\t\n!@#$%^&(){}[]:;\"'<>,?\\|`~"
				  "\x7f\x80\xc3\xff";
	const char *good = keys[4].b64;
	char s[WM_KEY_B64_LEN + 1];
	uint8_t key[32];

	for (size_t b = 0; b < sizeof(bad) - 1; b++) {
		for (size_t pos = 0; pos < 43; pos += 6) {
			strcpy(s, good);
			s[pos] = bad[b];
			if (wm_key_from_base64(key, s)) {
				fprintf(stderr, "accepted 0x%02x at %zu\n",
					(unsigned char)bad[b], pos);
				CHECK(0);
			}
		}
	}
	/* The URL decoder still refuses everything but -_ of these. */
	for (size_t b = 2; b < sizeof(bad) - 1; b++) {
		strcpy(s, good);
		s[7] = bad[b];
		CHECK(!wm_key_from_base64url(key, s));
	}
}

TEST(base64_last_symbol_must_have_zero_low_bits)
{
	/* 43 symbols carry 258 bits; the last symbol's two low bits fall
	 * off the key, so only multiples of 4 are canonical. */
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char s[WM_KEY_B64_LEN + 1];
	uint8_t key[32];

	strcpy(s, keys[0].b64);
	s[42] = 'B';
	CHECK(!wm_key_from_base64(key, s));
	CHECK(!wm_key_from_base64url(key, s));
	for (int v = 0; v < 64; v++) {
		s[42] = alphabet[v];
		CHECK(wm_key_from_base64(key, s) == (v % 4 == 0));
		CHECK(wm_key_from_base64url(key, s) == (v % 4 == 0));
		if (v % 4 == 0)
			CHECK(key[31] == (uint8_t)(v >> 2));
	}
}

TEST(base64url_rejects_bad_shapes)
{
	char s[64];
	uint8_t key[32];

	CHECK(!wm_key_from_base64url(key, ""));
	memcpy(s, keys[3].url, 42);
	s[42] = '\0';
	CHECK(!wm_key_from_base64url(key, s));
	/* 44 characters must end in '='; 43 must not. */
	memcpy(s, keys[3].url, 44);
	s[43] = 'A';
	s[44] = '\0';
	CHECK(!wm_key_from_base64url(key, s));
	memcpy(s, keys[3].url, 43);
	s[42] = '=';
	s[43] = '\0';
	CHECK(!wm_key_from_base64url(key, s));
	strcpy(s, keys[3].url);
	strcat(s, "=");
	CHECK(!wm_key_from_base64url(key, s));
	/* Percent-encoding is the caller's job. */
	strcpy(s, keys[3].b64);
	s[43] = '\0';
	strcat(s, "%3D");
	CHECK(!wm_key_from_base64url(key, s));
}

TEST(hex_round_trip)
{
	uint8_t key[32], back[32];
	char hex[WM_KEY_HEX_LEN + 1], upper[WM_KEY_HEX_LEN + 1];

	for (size_t i = 0; i < NKEYS; i++) {
		check_unhex(key, 32, keys[i].hex);
		memset(hex, 'x', sizeof(hex));
		wm_key_to_hex(hex, key);
		CHECK(strcmp(hex, keys[i].hex) == 0);
		memset(back, 0x5a, 32);
		CHECK(wm_key_from_hex(back, hex));
		CHECK_MEM(back, key, 32);
		for (size_t j = 0; j <= WM_KEY_HEX_LEN; j++)
			upper[j] = (char)(hex[j] >= 'a' && hex[j] <= 'f'
						  ? hex[j] - 'a' + 'A'
						  : hex[j]);
		memset(back, 0x5a, 32);
		CHECK(wm_key_from_hex(back, upper));
		CHECK_MEM(back, key, 32);
	}
}

TEST(hex_rejects)
{
	static const char bad[] = "gGzZ -x:/@`[{\x80\xff";
	char s[80];
	uint8_t key[32];

	CHECK(!wm_key_from_hex(key, ""));
	memcpy(s, keys[4].hex, 63);
	s[63] = '\0';
	CHECK(!wm_key_from_hex(key, s));
	strcpy(s, keys[4].hex);
	strcat(s, "0");
	CHECK(!wm_key_from_hex(key, s));
	strcpy(s, "0x");
	strcat(s, keys[4].hex);
	s[64] = '\0';
	CHECK(!wm_key_from_hex(key, s));
	for (size_t b = 0; b < sizeof(bad) - 1; b++) {
		for (size_t pos = 0; pos < 64; pos += 9) {
			strcpy(s, keys[4].hex);
			s[pos] = bad[b];
			CHECK(!wm_key_from_hex(key, s));
		}
	}
}

TEST(ct_helpers)
{
	uint8_t a[33], b[33];

	memset(a, 0x42, sizeof(a));
	memset(b, 0x42, sizeof(b));
	CHECK(wm_ct_memeq(a, b, sizeof(a)));
	CHECK(wm_ct_memeq(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i += 8) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			CHECK(!wm_ct_memeq(a, b, sizeof(a)));
			/* Only the first len bytes count. */
			CHECK(wm_ct_memeq(a, b, i));
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	b[32] = 0x43;
	CHECK(!wm_ct_memeq(a, b, 33));

	memset(a, 0, sizeof(a));
	CHECK(wm_ct_is_zero(a, sizeof(a)));
	CHECK(wm_ct_is_zero(a, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		a[i] = 0x80;
		CHECK(!wm_ct_is_zero(a, sizeof(a)));
		CHECK(wm_ct_is_zero(a, i));
		a[i] = 0x01;
		CHECK(!wm_ct_is_zero(a, sizeof(a)));
		a[i] = 0;
	}

	memset(a, 0xff, sizeof(a));
	wm_memzero(a, 32);
	CHECK(wm_ct_is_zero(a, 32));
	CHECK(a[32] == 0xff);
}

int main(void)
{
	RUN(base64_matches_python_and_round_trips);
	RUN(base64url_accepts_url_alphabet_and_missing_padding);
	RUN(base64_rejects_bad_shapes);
	RUN(base64_rejects_characters_outside_the_alphabet);
	RUN(base64_last_symbol_must_have_zero_low_bits);
	RUN(base64url_rejects_bad_shapes);
	RUN(hex_round_trip);
	RUN(hex_rejects);
	RUN(ct_helpers);
	return check_summary();
}
