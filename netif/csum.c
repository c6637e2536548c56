/* See csum.h. */
#include "netif/csum.h"

#include <string.h>

uint64_t wm_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w;
	uint16_t h;

	/* Four independent words per round keep the adders busy; a 64-bit
	 * sum of 32-bit words cannot overflow below 2^32 words. */
	while (len >= 16) {
		uint32_t a, b, c, d;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		sum += (uint64_t)a + b + c + d;
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd last byte, padded with a zero byte after it. */
		uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

uint16_t wm_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t wm_csum_pseudo(const uint8_t *addrs, size_t alen, uint8_t proto,
			uint32_t l4_len)
{
	uint8_t tail[8] = { 0, 0, 0, proto, (uint8_t)(l4_len >> 24),
			    (uint8_t)(l4_len >> 16), (uint8_t)(l4_len >> 8),
			    (uint8_t)l4_len };

	/* IPv4's 12-byte form and IPv6's 40-byte form sum alike: zero
	 * bytes add nothing, so both are addresses + proto + length. */
	return wm_csum_add(wm_csum_add(0, addrs, 2 * alen), tail, 8);
}

void wm_csum_fill(uint8_t *field, uint64_t start, const uint8_t *p,
		  size_t len)
{
	uint16_t c;

	field[0] = field[1] = 0;
	c = (uint16_t)~wm_csum_fold(wm_csum_add(start, p, len));
	memcpy(field, &c, 2);
}

void wm_csum_ipv4_header(uint8_t *iph, size_t hlen)
{
	wm_csum_fill(iph + 10, 0, iph, hlen);
}
