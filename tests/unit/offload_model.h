/*
 * offload_model.h - for test_gso and test_gro: packets built byte by byte,
 * an RFC 1071 checksum written the plain way (big-endian 16-bit words,
 * carries folded at the end), and a naive segmenter that makes segment i
 * of a TCP super-packet from the rules alone. Independent of netif/csum.c.
 */
#ifndef WM_TEST_OFFLOAD_MODEL_H
#define WM_TEST_OFFLOAD_MODEL_H

#include "netif/gso.h" /* the virtio header, VIRTIO_NET_HDR_GSO_UDP_L4 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { M_FIN = 0x01, M_SYN = 0x02, M_PSH = 0x08, M_ACK = 0x10, M_CWR = 0x80 };

/* What a test packet looks like. */
struct mpkt {
	bool v4;
	size_t ipopt;   /* IPv4 option bytes (a multiple of 4) */
	int tcpopt;     /* 0 none, 1 timestamps (NOP NOP TS), 2 MSS + SACK-permitted */
	uint8_t proto;  /* 6 or 17 */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t id;
	uint32_t tsval; /* timestamps option value */
	size_t payload;
	uint32_t fill;  /* payload byte k is (fill + k) * 7 */
};

static inline uint32_t m_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t m_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static inline size_t m_l3(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 4 ? (size_t)(pkt[0] & 15) * 4 : 40;
}

static inline uint32_t m_pseudo(const uint8_t *pkt, uint8_t proto, size_t l4len)
{
	uint32_t s = pkt[0] >> 4 == 4 ? m_sum(0, pkt + 12, 8)
				      : m_sum(0, pkt + 8, 32);

	return s + proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

/* True when the IPv4 header (if any) and the TCP/UDP checksum verify. */
static inline bool m_csums_ok(const uint8_t *pkt, size_t len)
{
	size_t l3 = m_l3(pkt);
	uint8_t proto = pkt[0] >> 4 == 4 ? pkt[9] : pkt[6];

	if (pkt[0] >> 4 == 4 && m_fold(m_sum(0, pkt, l3)) != 0xffff)
		return false;
	if (proto == 17 && pkt[l3 + 6] == 0 && pkt[l3 + 7] == 0)
		return false; /* we always send UDP checksums */
	return m_fold(m_sum(m_pseudo(pkt, proto, len - l3), pkt + l3,
			    len - l3)) == 0xffff;
}

static inline void m_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void m_put32(uint8_t *p, uint32_t v)
{
	m_put16(p, v >> 16);
	m_put16(p + 2, v);
}

static inline size_t m_l4len(const struct mpkt *m)
{
	if (m->proto == 17)
		return 8;
	return 20 + (m->tcpopt == 1 ? 12 : m->tcpopt == 2 ? 8 : 0);
}

/* Builds m with complete, correct checksums. Returns the length. */
static inline size_t m_build(uint8_t *b, const struct mpkt *m)
{
	size_t l3 = m->v4 ? 20 + m->ipopt : 40, l4 = m_l4len(m);
	size_t len = l3 + l4 + m->payload;
	uint8_t *t = b + l3;

	memset(b, 0, l3 + l4);
	if (m->v4) {
		b[0] = (uint8_t)(0x40 | l3 / 4);
		b[1] = 0x10;
		m_put16(b + 2, (uint32_t)len);
		m_put16(b + 4, m->id);
		b[6] = 0x40; /* DF */
		b[8] = 64;
		b[9] = m->proto;
		memcpy(b + 12, "\x0a\x01\x02\x03\x0a\x04\x05\x06", 8);
		for (size_t i = 20; i < l3; i++)
			b[i] = 1; /* NOPs */
		m_put16(b + 10, (uint16_t)~m_fold(m_sum(0, b, l3)));
	} else {
		b[0] = 0x60;
		b[1] = 0x0a;
		b[3] = 0x42;
		m_put16(b + 4, (uint32_t)(len - 40));
		b[6] = m->proto;
		b[7] = 64;
		memcpy(b + 8, "\xfd\x00\x00\x00\x00\x00\x00\x00"
			      "\x00\x00\x00\x00\x00\x00\x00\x01", 16);
		memcpy(b + 24, "\xfd\x00\x00\x00\x00\x00\x00\x00"
			       "\x00\x00\x00\x00\x00\x00\x00\x02", 16);
	}
	m_put16(t, 40000);
	m_put16(t + 2, 5201);
	if (m->proto == 17) {
		m_put16(t + 4, (uint32_t)(len - l3));
	} else {
		m_put32(t + 4, m->seq);
		m_put32(t + 8, m->ack);
		t[12] = (uint8_t)(l4 / 4 << 4);
		t[13] = m->flags;
		m_put16(t + 14, 501);
		if (m->tcpopt == 1) {
			memcpy(t + 20, "\x01\x01\x08\x0a", 4);
			m_put32(t + 24, m->tsval);
			m_put32(t + 28, 77);
		} else if (m->tcpopt == 2) {
			memcpy(t + 20, "\x02\x04\x05\x8c\x04\x02\x01\x01", 8);
		}
	}
	for (size_t k = 0; k < m->payload; k++)
		b[l3 + l4 + k] = (uint8_t)((m->fill + k) * 7);
	{
		uint16_t c = (uint16_t)~m_fold(m_sum(m_pseudo(b, m->proto, len - l3),
						     t, len - l3));
		if (m->proto == 17 && c == 0)
			c = 0xffff;
		m_put16(t + (m->proto == 17 ? 6 : 16), c);
	}
	return len;
}

/* The virtio header the kernel gives a TSO/USO read of super-packet b, and
 * the checksum field seeded with the folded pseudo-header sum. */
static inline struct virtio_net_hdr m_make_super(uint8_t *b, size_t len,
						 uint16_t gso_size)
{
	struct virtio_net_hdr vh;
	size_t l3 = m_l3(b);
	uint8_t proto = b[0] >> 4 == 4 ? b[9] : b[6];
	size_t l4 = proto == 17 ? 8 : (size_t)(b[l3 + 12] >> 4) * 4;
	size_t field = l3 + (proto == 17 ? 6 : 16);

	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = proto == 17 ? VIRTIO_NET_HDR_GSO_UDP_L4
		      : b[0] >> 4 == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
				       : VIRTIO_NET_HDR_GSO_TCPV6;
	vh.hdr_len = (uint16_t)(l3 + l4);
	vh.gso_size = gso_size;
	vh.csum_start = (uint16_t)l3;
	vh.csum_offset = proto == 17 ? 6 : 16;
	m_put16(b + field, m_fold(m_pseudo(b, proto, len - l3)));
	return vh;
}

/* Segment i of super-packet b (len bytes) cut at mss, the naive way.
 * Returns its length, 0 past the end. */
static inline size_t m_segment(uint8_t *out, const uint8_t *b, size_t len,
			       size_t mss, size_t i)
{
	size_t l3 = m_l3(b);
	uint8_t proto = b[0] >> 4 == 4 ? b[9] : b[6];
	size_t l4 = proto == 17 ? 8 : (size_t)(b[l3 + 12] >> 4) * 4;
	size_t hdr = l3 + l4, payload = len - hdr;
	size_t n = payload ? (payload + mss - 1) / mss : 1;
	size_t plen, slen;
	uint8_t *t = out + l3;
	uint16_t c;

	if (i >= n)
		return 0;
	plen = i + 1 < n ? mss : payload - i * mss;
	slen = hdr + plen;
	memcpy(out, b, hdr);
	memcpy(out + hdr, b + hdr + i * mss, plen);
	if (b[0] >> 4 == 4) {
		m_put16(out + 2, (uint32_t)slen);
		m_put16(out + 4, (uint32_t)((b[4] << 8 | b[5]) + i));
		m_put16(out + 10, 0);
		m_put16(out + 10, (uint16_t)~m_fold(m_sum(0, out, l3)));
	} else {
		m_put16(out + 4, (uint32_t)(slen - 40));
	}
	if (proto == 17) {
		m_put16(t + 4, (uint32_t)(slen - l3));
		m_put16(t + 6, 0);
		c = (uint16_t)~m_fold(m_sum(m_pseudo(out, 17, slen - l3), t,
					    slen - l3));
		m_put16(t + 6, c ? c : 0xffff);
		return slen;
	}
	m_put32(t + 4, (uint32_t)((uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
				  (uint32_t)t[6] << 8 | t[7]) + (uint32_t)(i * mss));
	if (i + 1 < n)
		t[13] &= (uint8_t)~(M_FIN | M_PSH);
	if (i > 0)
		t[13] &= (uint8_t)~M_CWR;
	m_put16(t + 16, 0);
	m_put16(t + 16, (uint16_t)~m_fold(m_sum(m_pseudo(out, 6, slen - l3), t,
						slen - l3)));
	return slen;
}

#endif
