/* See gso.h. */
#include "netif/gso.h"
#include "netif/bytes.h"
#include "netif/csum.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

enum { TCP_FIN = 0x01, TCP_PSH = 0x08, TCP_CWR = 0x80 };

/* The layout of a super-packet, checked against what vh claims. */
struct layout {
	int v4;
	uint8_t proto;
	size_t l3, l4; /* header lengths */
};

static int parse(const struct virtio_net_hdr *vh, const uint8_t *pkt,
		 size_t len, struct layout *lo)
{
	uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (len < 20)
		return -EINVAL;
	lo->v4 = pkt[0] >> 4 == 4;
	if (!lo->v4 && (pkt[0] >> 4 != 6 || len < 40))
		return -EINVAL;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (lo->v4 != (gso == VIRTIO_NET_HDR_GSO_TCPV4))
			return -EINVAL;
		lo->proto = IPPROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		lo->proto = IPPROTO_UDP;
		break;
	default:
		return -EINVAL;
	}
	if (lo->v4) {
		lo->l3 = (size_t)(pkt[0] & 15) * 4;
		if (lo->l3 < 20 || pkt[9] != lo->proto)
			return -EINVAL;
	} else if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* Extension headers end where the checksum starts. */
		lo->l3 = vh->csum_start;
		if (lo->l3 < 40 || (lo->l3 == 40 && pkt[6] != lo->proto))
			return -EINVAL;
	} else {
		lo->l3 = 40;
		if (pkt[6] != lo->proto)
			return -EINVAL;
	}
	if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && vh->csum_start != lo->l3)
		return -EINVAL;
	if (lo->l3 + 8 > len)
		return -EINVAL;
	lo->l4 = lo->proto == IPPROTO_TCP ? (size_t)(pkt[lo->l3 + 12] >> 4) * 4
					  : 8;
	if (lo->l4 < 8 || (lo->proto == IPPROTO_TCP && lo->l4 < 20) ||
	    lo->l3 + lo->l4 > len || vh->gso_size == 0)
		return -EINVAL;
	return 0;
}

/* Makes seg (slen bytes: headers of the super-packet, then this segment's
 * payload) segment number i of n. */
static void finish_segment(const struct layout *lo, uint8_t *seg, size_t slen,
			   size_t i, size_t n, size_t gso_size)
{
	uint8_t *l4 = seg + lo->l3;
	size_t l4_len = slen - lo->l3;
	const uint8_t *addrs = lo->v4 ? seg + 12 : seg + 8;
	uint64_t pseudo;

	if (lo->v4) {
		wm_put16(seg + 2, (uint32_t)slen);
		wm_put16(seg + 4, (uint32_t)(wm_get16(seg + 4) + i) & 0xffff);
		wm_csum_ipv4_header(seg, lo->l3);
	} else {
		wm_put16(seg + 4, (uint32_t)(slen - 40));
	}
	pseudo = wm_csum_pseudo(addrs, lo->v4 ? 4 : 16, lo->proto,
				(uint32_t)l4_len);
	if (lo->proto == IPPROTO_TCP) {
		wm_put32(l4 + 4, wm_get32(l4 + 4) + (uint32_t)(i * gso_size));
		if (i + 1 < n)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		wm_csum_fill(l4 + 16, pseudo, l4, l4_len);
	} else {
		wm_put16(l4 + 4, (uint32_t)l4_len);
		wm_csum_fill(l4 + 6, pseudo, l4, l4_len);
		if (l4[6] == 0 && l4[7] == 0)
			l4[6] = l4[7] = 0xff; /* 0 would mean "no checksum" */
	}
}

int wm_gso_split(const struct virtio_net_hdr *vh, const uint8_t *pkt,
		 size_t len, size_t first, struct wm_gso_segs *out,
		 size_t *total)
{
	struct layout lo;
	size_t hdr, payload, gso_size, n, k;
	int r = parse(vh, pkt, len, &lo);

	if (r < 0)
		return r;
	hdr = lo.l3 + lo.l4;
	payload = len - hdr;
	gso_size = vh->gso_size;
	n = payload ? (payload + gso_size - 1) / gso_size : 1;
	*total = n;
	for (k = 0; k < out->max && first + k < n; k++) {
		size_t i = first + k, off = i * gso_size;
		size_t plen = payload - off < gso_size ? payload - off : gso_size;
		uint8_t *seg = out->buf + k * out->stride + out->headroom;

		if (out->headroom + hdr + plen + out->tailroom > out->stride)
			return -EMSGSIZE;
		memcpy(seg, pkt, hdr);
		memcpy(seg + hdr, pkt + hdr + off, plen);
		finish_segment(&lo, seg, hdr + plen, i, n, gso_size);
		out->len[k] = hdr + plen;
	}
	return (int)k;
}

int wm_gso_fill_csum(const struct virtio_net_hdr *vh, uint8_t *pkt,
		     size_t len)
{
	size_t start = vh->csum_start, field = start + vh->csum_offset;
	uint16_t c;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start >= len || field + 2 > len)
		return -EINVAL;
	/* The field holds the pseudo-header's sum: it is part of the sum. */
	c = (uint16_t)~wm_csum_fold(wm_csum_add(0, pkt + start, len - start));
	if (c == 0)
		c = 0xffff;
	memcpy(pkt + field, &c, 2);
	return 0;
}
