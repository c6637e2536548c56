/*
 * gso.h - super-packets read from a TUN opened with IFF_VNET_HDR, made into
 * packets a peer can take: a TSO (TCP over IPv4 or IPv6) or USO (UDP)
 * packet of up to 64 KB is split into segments of the size the kernel
 * asked for (gso_size), each a complete IP packet with its own lengths,
 * IPv4 ID, TCP sequence number and flags, and IP and TCP/UDP checksums;
 * a single packet whose checksum the kernel left to us
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) gets it filled in.
 *
 * Pure: no I/O, no allocation. Segments go into caller-owned slots with
 * room before each, so the send path can seal them in place.
 *
 * The virtio header's fields are in host byte order (legacy virtio, which
 * TUN speaks unless told TUNSETVNETLE/BE; we never tell it).
 */
#ifndef WM_NETIF_GSO_H
#define WM_NETIF_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

enum { WM_VNET_HDR_LEN = sizeof(struct virtio_net_hdr) };

/* UDP segmentation offload (Linux 6.2); older uapi headers lack it. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* Where wm_gso_split() writes: segment k of a call starts at
 * buf + k * stride + headroom, is len[k] bytes long, and must leave
 * tailroom bytes before the next slot. */
struct wm_gso_segs {
	uint8_t *buf;
	size_t stride, headroom, tailroom;
	size_t max;  /* slots in buf, entries in len */
	size_t *len; /* out */
};

/* Splits the super-packet pkt (len bytes, its header in vh, gso_type
 * TCPV4, TCPV6 or UDP_L4) into segments, starting with segment number
 * first, as many as out->max holds. *total is set to the number of
 * segments of the whole packet, so callers loop with first += returned
 * count until first == *total. Returns the count written, or -EINVAL for
 * a packet that is malformed or not what vh says (drop it), or -EMSGSIZE
 * when a segment does not fit a slot. */
int wm_gso_split(const struct virtio_net_hdr *vh, const uint8_t *pkt,
		 size_t len, size_t first, struct wm_gso_segs *out,
		 size_t *total);

/* For a packet that is not GSO: when vh asks for a checksum
 * (NEEDS_CSUM), computes it over pkt[csum_start..len) into
 * csum_start + csum_offset, seeded as the kernel leaves it (the
 * pseudo-header sum in the field). Returns 0 (also when nothing was
 * asked) or -EINVAL when the offsets do not fit in len. */
int wm_gso_fill_csum(const struct virtio_net_hdr *vh, uint8_t *pkt,
		     size_t len);

#endif
