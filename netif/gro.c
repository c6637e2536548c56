/* See gro.h. */
#include "netif/gro.h"
#include "netif/bytes.h"
#include "netif/csum.h"

#include <netinet/in.h>
#include <string.h>

enum { TCP_PSH = 0x08, TCP_ACK = 0x10 };

void wm_gro_init(struct wm_gro *g, uint8_t *arena)
{
	g->arena = arena;
	wm_gro_reset(g);
}

void wm_gro_reset(struct wm_gro *g)
{
	g->used = g->n = g->next = 0;
}

/* A TCP packet's layout; tcp is false for anything else, and candidate
 * false for TCP that may not be merged (it still closes its flow). */
struct seg {
	bool tcp, candidate, v4;
	size_t l3, l4, payload;
};

static bool plain_timestamps(const uint8_t *opt, size_t n)
{
	return n == 0 || (n == 12 && opt[0] == 1 && opt[1] == 1 &&
			  opt[2] == 8 && opt[3] == 10);
}

static bool tcp_csum_ok(const uint8_t *pkt, size_t len, const struct seg *s)
{
	uint64_t sum = wm_csum_pseudo(s->v4 ? pkt + 12 : pkt + 8,
				      s->v4 ? 4 : 16, IPPROTO_TCP,
				      (uint32_t)(len - s->l3));

	return wm_csum_fold(wm_csum_add(sum, pkt + s->l3, len - s->l3)) ==
	       0xffff;
}

static void classify(const uint8_t *pkt, size_t len, struct seg *s)
{
	const uint8_t *th;

	memset(s, 0, sizeof(*s));
	if (len >= 20 && pkt[0] >> 4 == 4) {
		s->v4 = true;
		s->l3 = (size_t)(pkt[0] & 15) * 4;
		/* Fragments after the first carry no TCP header. */
		if (pkt[9] != IPPROTO_TCP || s->l3 < 20 ||
		    (wm_get16(pkt + 6) & 0x1fff))
			return;
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		s->l3 = 40;
		if (pkt[6] != IPPROTO_TCP)
			return;
	} else {
		return;
	}
	if (s->l3 + 20 > len)
		return;
	th = pkt + s->l3;
	s->l4 = (size_t)(th[12] >> 4) * 4;
	if (s->l4 < 20 || s->l3 + s->l4 > len)
		return;
	s->tcp = true;
	s->payload = len - s->l3 - s->l4;
	if (s->v4 && (s->l3 != 20 || (wm_get16(pkt + 6) & 0x3fff) ||
		      wm_get16(pkt + 2) != len))
		return;
	if (!s->v4 && 40 + (size_t)wm_get16(pkt + 4) != len)
		return;
	if ((th[13] & ~TCP_PSH) != TCP_ACK || s->payload == 0 ||
	    s->payload > 0xffff || !plain_timestamps(th + 20, s->l4 - 20))
		return;
	s->candidate = tcp_csum_ok(pkt, len, s);
}

static uint8_t *entry_pkt(const struct wm_gro *g, const struct wm_gro_entry *e)
{
	return g->arena + e->off + WM_VNET_HDR_LEN;
}

/* Same flow: addresses and ports. */
static bool same_flow(const uint8_t *a, const uint8_t *b, const struct seg *s)
{
	if (s->v4)
		return a[0] >> 4 == 4 && memcmp(a + 12, b + 12, 8) == 0 &&
		       memcmp(a + 20, b + s->l3, 4) == 0;
	return a[0] >> 4 == 6 && memcmp(a + 8, b + 8, 32) == 0 &&
	       memcmp(a + 40, b + s->l3, 4) == 0;
}

/* Everything else that must match for pkt to follow e's segments. */
static bool mergeable(const struct wm_gro_entry *e, const uint8_t *h,
		      const uint8_t *pkt, const struct seg *s)
{
	const uint8_t *t = h + e->l3, *u = pkt + s->l3;

	if (e->l3 != s->l3 || e->l4 != s->l4 || s->payload > e->gso_size ||
	    wm_get32(u + 4) != e->next_seq ||
	    e->len + s->payload > e->cap)
		return false;
	if (s->v4 ? memcmp(h, pkt, 2) != 0 || memcmp(h + 6, pkt + 6, 4) != 0
		  : memcmp(h, pkt, 4) != 0 || memcmp(h + 6, pkt + 6, 2) != 0)
		return false;
	/* ACK number, data offset, flags but PSH, urgent pointer, options */
	return memcmp(t + 8, u + 8, 5) == 0 &&
	       (t[13] & ~TCP_PSH) == (u[13] & ~TCP_PSH) &&
	       memcmp(t + 18, u + 18, e->l4 - 18) == 0;
}

static struct wm_gro_entry *open_entry(struct wm_gro *g, const void *owner,
				       const uint8_t *pkt, const struct seg *s)
{
	for (size_t i = g->n; i-- > 0;) {
		struct wm_gro_entry *e = &g->e[i];

		if (e->open && e->owner == owner &&
		    same_flow(entry_pkt(g, e), pkt, s))
			return e;
	}
	return NULL;
}

bool wm_gro_add(struct wm_gro *g, const void *owner, const uint8_t *pkt,
		size_t len)
{
	struct wm_gro_entry *e = NULL;
	struct seg s;
	size_t room, cap;

	if (len > WM_GRO_MAX_PACKET)
		return false;
	classify(pkt, len, &s);
	if (s.tcp)
		e = open_entry(g, owner, pkt, &s);
	if (e && s.candidate && mergeable(e, entry_pkt(g, e), pkt, &s)) {
		uint8_t *h = entry_pkt(g, e);

		memcpy(h + e->len, pkt + s.l3 + s.l4, s.payload);
		e->len += (uint32_t)s.payload;
		e->next_seq += (uint32_t)s.payload;
		e->segs++;
		h[e->l3 + 13] |= pkt[s.l3 + 13] & TCP_PSH;
		if (pkt[s.l3 + 13] & TCP_PSH || s.payload < e->gso_size ||
		    e->len == e->cap)
			e->open = false;
		return true;
	}
	room = WM_GRO_ARENA - g->used;
	if (g->n == WM_GRO_MAX_ENTRIES || room < WM_VNET_HDR_LEN + len)
		return false;
	if (e)
		e->open = false;
	cap = len;
	/* A segment that may grow reserves up to 64 KB. */
	if (s.candidate && !(pkt[s.l3 + 13] & TCP_PSH))
		cap = room - WM_VNET_HDR_LEN < WM_GRO_MAX_PACKET
			      ? room - WM_VNET_HDR_LEN
			      : WM_GRO_MAX_PACKET;
	e = &g->e[g->n++];
	e->owner = owner;
	e->off = (uint32_t)g->used;
	e->len = (uint32_t)len;
	e->cap = (uint32_t)cap;
	e->segs = 1;
	e->l3 = (uint8_t)s.l3;
	e->l4 = (uint8_t)s.l4;
	e->gso_size = (uint16_t)s.payload;
	e->next_seq = s.tcp ? wm_get32(pkt + s.l3 + 4) + (uint32_t)s.payload : 0;
	e->open = s.candidate && cap > len && !(pkt[s.l3 + 13] & TCP_PSH);
	memcpy(entry_pkt(g, e), pkt, len);
	g->used += WM_VNET_HDR_LEN + cap;
	return true;
}

/* The super-packet's IP lengths, and the checksums as the kernel wants a
 * TSO packet: the IPv4 header's complete, TCP's the pseudo-header sum. */
static void finish(struct wm_gro_entry *e, uint8_t *vnet, uint8_t *pkt)
{
	struct virtio_net_hdr vh;
	bool v4 = pkt[0] >> 4 == 4;
	uint16_t c;

	memset(&vh, 0, sizeof(vh));
	if (e->segs > 1) {
		if (v4) {
			wm_put16(pkt + 2, e->len);
			wm_csum_ipv4_header(pkt, e->l3);
		} else {
			wm_put16(pkt + 4, e->len - 40);
		}
		c = wm_csum_fold(wm_csum_pseudo(v4 ? pkt + 12 : pkt + 8,
						v4 ? 4 : 16, IPPROTO_TCP,
						e->len - e->l3));
		memcpy(pkt + e->l3 + 16, &c, 2);
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.gso_type = v4 ? VIRTIO_NET_HDR_GSO_TCPV4
				 : VIRTIO_NET_HDR_GSO_TCPV6;
		vh.hdr_len = (uint16_t)(e->l3 + e->l4);
		vh.gso_size = e->gso_size;
		vh.csum_start = e->l3;
		vh.csum_offset = 16;
	}
	memcpy(vnet, &vh, sizeof(vh));
}

const uint8_t *wm_gro_next(struct wm_gro *g, size_t *len)
{
	struct wm_gro_entry *e;
	uint8_t *vnet;

	if (g->next >= g->n)
		return NULL;
	e = &g->e[g->next++];
	vnet = g->arena + e->off;
	finish(e, vnet, vnet + WM_VNET_HDR_LEN);
	*len = WM_VNET_HDR_LEN + e->len;
	return vnet;
}
