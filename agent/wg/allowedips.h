/*
 * allowedips.h - the allowed-IPs table: IPv4 and IPv6 prefixes mapped to an
 * owner (a peer, opaque here), with longest-prefix match.
 *
 * It answers both questions of the data plane: which peer an outgoing packet
 * goes to (lookup_dst on a packet read from TUN), and whether a decrypted
 * packet's source belongs to the peer it came from (lookup_src). Prefixes
 * follow WireGuard's rules: host bits are dropped on insert, and a prefix has
 * exactly one owner, so inserting it again for another peer moves it.
 *
 * One path-compressed binary trie per family. Lookups walk at most one node
 * per address bit and never allocate; inserts allocate at most two nodes.
 * No locking inside: the caller keeps writers apart from readers.
 */
#ifndef WM_AGENT_ALLOWEDIPS_H
#define WM_AGENT_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

#include "netif/addr.h"

struct wm_allowedips_node;

struct wm_allowedips {
	struct wm_allowedips_node *root4;
	struct wm_allowedips_node *root6;
	size_t count; /* prefixes held, both families */
};

/* Makes an empty table. */
void wm_allowedips_init(struct wm_allowedips *t);
/* Frees every node; the table is empty (and reusable) afterwards. */
void wm_allowedips_free(struct wm_allowedips *t);

/* Adds c (host bits masked off) for peer, or moves it to peer if present.
 * 0, -EINVAL (bad family or length, NULL peer) or -ENOMEM (table unchanged). */
int wm_allowedips_insert(struct wm_allowedips *t, const struct wm_cidr *c,
			 void *peer);
/* Removes c (host bits masked off) if peer owns exactly that prefix.
 * 0, -ENOENT (absent or owned by another peer) or -EINVAL (bad prefix). */
int wm_allowedips_remove(struct wm_allowedips *t, const struct wm_cidr *c,
			 const void *peer);
/* Removes every prefix owned by peer (use before freeing the peer). */
void wm_allowedips_remove_peer(struct wm_allowedips *t, const void *peer);

/* Owner of the longest prefix holding addr (4 or 16 bytes, network order,
 * family AF_INET or AF_INET6), or NULL. */
void *wm_allowedips_lookup(const struct wm_allowedips *t, int family,
			   const uint8_t *addr);
/* lookup() on the destination of an IPv4/IPv6 packet; NULL when the buffer
 * is too short for the header or is not IP. */
void *wm_allowedips_lookup_dst(const struct wm_allowedips *t,
			       const uint8_t *ip_packet, size_t len);
/* lookup() on the source of an IPv4/IPv6 packet; NULL as for lookup_dst. */
void *wm_allowedips_lookup_src(const struct wm_allowedips *t,
			       const uint8_t *ip_packet, size_t len);

/* Copies up to cap of peer's prefixes into out (NULL if cap is 0): IPv4
 * first, then IPv6, each by address then length. Returns the total number,
 * which may exceed cap. */
size_t wm_allowedips_list(const struct wm_allowedips *t, const void *peer,
			  struct wm_cidr *out, size_t cap);

#endif
