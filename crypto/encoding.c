/* See encoding.h. Branch-free character mapping in the style of
 * wireguard-tools: each class is selected with arithmetic masks. */
#include "crypto/encoding.h"
#include "crypto/ct.h"

#include <string.h>

/* Mask is all ones when lo <= c <= hi, else zero; no branches. */
static inline int in_range(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

static char b64_char(unsigned v)
{
	int c = (int)v;
	return (char)(c + 'A' + (((25 - c) >> 8) & 6) - (((51 - c) >> 8) & 75) -
		      (((61 - c) >> 8) & 15) + (((62 - c) >> 8) & 3));
}

/* Returns 0..63, or -1 for a character outside the alphabet(s). */
static int b64_value(int c, int url)
{
	int ret = -1;

	ret += in_range(c, 'A', 'Z') & (c - 'A' + 1);
	ret += in_range(c, 'a', 'z') & (c - 'a' + 26 + 1);
	ret += in_range(c, '0', '9') & (c - '0' + 52 + 1);
	if (url) {
		ret += in_range(c, '-', '-') & (62 + 1);
		ret += in_range(c, '_', '_') & (63 + 1);
	}
	ret += in_range(c, '+', '+') & (62 + 1);
	ret += in_range(c, '/', '/') & (63 + 1);
	return ret;
}

void wm_key_to_base64(char out[WM_KEY_B64_LEN + 1], const uint8_t key[32])
{
	unsigned i;

	for (i = 0; i < 32 / 3; i++) {
		const uint8_t *p = key + 3 * i;
		out[4 * i + 0] = b64_char(p[0] >> 2);
		out[4 * i + 1] = b64_char(((p[0] << 4) | (p[1] >> 4)) & 63);
		out[4 * i + 2] = b64_char(((p[1] << 2) | (p[2] >> 6)) & 63);
		out[4 * i + 3] = b64_char(p[2] & 63);
	}
	out[4 * i + 0] = b64_char(key[30] >> 2);
	out[4 * i + 1] = b64_char(((key[30] << 4) | (key[31] >> 4)) & 63);
	out[4 * i + 2] = b64_char((key[31] << 2) & 63);
	out[4 * i + 3] = '=';
	out[WM_KEY_B64_LEN] = '\0';
}

static bool decode(uint8_t key[32], const char *in, int url)
{
	uint8_t tmp[33];
	int bad = 0;

	/* 43 symbols carry 258 bits; the last two must be zero. */
	for (unsigned i = 0; i < 43; i += 4) {
		int v[4] = { 0, 0, 0, 0 }, n = (i + 4 <= 43) ? 4 : 3;
		for (int j = 0; j < n; j++) {
			v[j] = b64_value((unsigned char)in[i + j], url);
			bad |= v[j] >> 31;
		}
		uint32_t w = (uint32_t)(v[0] & 63) << 18 |
			     (uint32_t)(v[1] & 63) << 12 |
			     (uint32_t)(v[2] & 63) << 6 | (uint32_t)(v[3] & 63);
		unsigned o = i / 4 * 3;
		tmp[o] = (uint8_t)(w >> 16);
		tmp[o + 1] = (uint8_t)(w >> 8);
		if (o + 2 < sizeof(tmp))
			tmp[o + 2] = (uint8_t)w;
	}
	bad |= tmp[32] != 0;
	memcpy(key, tmp, 32);
	wm_memzero(tmp, sizeof(tmp));
	if (bad)
		wm_memzero(key, 32);
	return !bad;
}

bool wm_key_from_base64(uint8_t key[32], const char *in)
{
	if (strlen(in) != WM_KEY_B64_LEN || in[43] != '=')
		return false;
	return decode(key, in, 0);
}

bool wm_key_from_base64url(uint8_t key[32], const char *in)
{
	size_t n = strlen(in);

	if (n == WM_KEY_B64_LEN && in[43] != '=')
		return false;
	if (n != WM_KEY_B64_LEN && n != 43)
		return false;
	return decode(key, in, 1);
}

void wm_key_to_hex(char out[WM_KEY_HEX_LEN + 1], const uint8_t key[32])
{
	for (int i = 0; i < 32; i++) {
		int hi = key[i] >> 4, lo = key[i] & 15;
		/* 0..9 -> '0'.., 10..15 -> 'a'.. without a branch. */
		out[2 * i] = (char)(87 + hi + (((hi - 10) >> 8) & ~38));
		out[2 * i + 1] = (char)(87 + lo + (((lo - 10) >> 8) & ~38));
	}
	out[WM_KEY_HEX_LEN] = '\0';
}

static int hex_value(int c)
{
	int ret = -1;

	ret += in_range(c, '0', '9') & (c - '0' + 1);
	ret += in_range(c, 'a', 'f') & (c - 'a' + 10 + 1);
	ret += in_range(c, 'A', 'F') & (c - 'A' + 10 + 1);
	return ret;
}

bool wm_key_from_hex(uint8_t key[32], const char *in)
{
	int bad = 0;

	if (strlen(in) != WM_KEY_HEX_LEN)
		return false;
	for (int i = 0; i < 32; i++) {
		int hi = hex_value((unsigned char)in[2 * i]);
		int lo = hex_value((unsigned char)in[2 * i + 1]);
		bad |= (hi | lo) >> 31;
		key[i] = (uint8_t)(((hi & 15) << 4) | (lo & 15));
	}
	if (bad)
		wm_memzero(key, 32);
	return !bad;
}
