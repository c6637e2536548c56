/*
 * gro.h - packets bound for a TUN opened with IFF_VNET_HDR, coalesced
 * before they are written: in-order TCP segments of one flow from one
 * owner (a peer) become one super-packet with a virtio header (gso_type
 * TCPV4/TCPV6, gso_size the segments' payload size, NEEDS_CSUM with the
 * pseudo-header sum in the TCP checksum field, as the kernel expects of a
 * TSO packet), so the kernel's TCP handles one packet where it would have
 * handled dozens. Everything else is kept as it came, in its own entry
 * with an all-zero virtio header.
 *
 * Segments merge only when nothing about them differs but the sequence
 * number, the payload and the window (the first segment's stays, as in
 * the kernel's GRO): same owner, addresses and ports, same ACK number,
 * flags ACK or ACK|PSH (a PSH ends the super-packet),
 * no IPv4 options, no IPv6 extension headers, same TOS/TTL (traffic class,
 * flow label, hop limit), no TCP options but identical timestamps, a valid
 * TCP checksum, a payload no larger than the first one's (a smaller one
 * ends the super-packet) and at most 64 KB in all. A segment that does
 * not merge closes its flow's open super-packet, so nothing of a flow is
 * ever reordered. Only appending is done, never prepending.
 *
 * Pure: no I/O, no allocation. The caller owns the arena (WM_GRO_ARENA
 * bytes) and the struct; packets are copied in, so their buffers may be
 * reused at once. Use: wm_gro_add() each packet (on false, write what
 * wm_gro_next() gives, wm_gro_reset(), add again), then at the end of a
 * batch wm_gro_next() until it returns NULL, then wm_gro_reset().
 */
#ifndef WM_NETIF_GRO_H
#define WM_NETIF_GRO_H

#include "netif/gso.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	WM_GRO_MAX_PACKET = 65535,
	WM_GRO_MAX_ENTRIES = 128,
	/* Room for 8 super-packets of 64 KB (or many small packets): what
	 * one receive batch (agent.h: 8 reads of up to 64 KB) can fill. */
	WM_GRO_ARENA = 8 * (WM_VNET_HDR_LEN + WM_GRO_MAX_PACKET + 1),
};

struct wm_gro_entry {
	const void *owner;
	uint32_t off;      /* virtio header at arena + off, packet after it */
	uint32_t len;      /* packet bytes so far */
	uint32_t cap;      /* packet bytes reserved */
	uint32_t next_seq; /* TCP: the sequence number that may follow */
	uint16_t gso_size; /* TCP: payload of the first segment */
	uint16_t segs;
	uint8_t l3, l4;    /* header lengths */
	bool open;         /* may still take segments */
};

struct wm_gro {
	uint8_t *arena;
	size_t used;
	size_t n, next;
	struct wm_gro_entry e[WM_GRO_MAX_ENTRIES];
};

/* Starts empty over a caller-owned arena of WM_GRO_ARENA bytes. */
void wm_gro_init(struct wm_gro *g, uint8_t *arena);

/* Copies one IP packet from owner in, merging it into its flow's open
 * super-packet when it can. len must be the packet's IP length (no
 * trailing bytes). Returns false, changing nothing, when there is no room
 * left: empty it first. A packet longer than WM_GRO_MAX_PACKET never
 * fits. */
bool wm_gro_add(struct wm_gro *g, const void *owner, const uint8_t *pkt,
		size_t len);

/* The next entry in the order packets came, finished (IP lengths and
 * checksums, the virtio header): *len bytes at the returned pointer, the
 * virtio header first. NULL when all were returned. The bytes stay valid
 * until wm_gro_reset(). */
const uint8_t *wm_gro_next(struct wm_gro *g, size_t *len);

/* Empties it (what wm_gro_next() had not returned is dropped). */
void wm_gro_reset(struct wm_gro *g);

#endif
