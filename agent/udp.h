/*
 * udp.h - the agent's one UDP socket: dual-stack where the host has IPv6,
 * non-blocking, with room for bursts. Everything (WireGuard, STUN, disco,
 * relay) shares it, so the mapping STUN reports is the one peers punch to.
 *
 * A leaf: it includes nothing of the agent, so every room may send on it.
 */
#ifndef WM_UDP_H
#define WM_UDP_H

#include "netif/addr.h"

#include <stddef.h>
#include <stdint.h>

/* The socket and its family; fd -1 while closed. */
struct wm_udp {
	int fd;
	int family; /* AF_INET6 (dual-stack) or AF_INET */
};

/* Binds [::]:port (or 0.0.0.0:port without IPv6); port 0 picks one.
 * Returns the fd or -errno; *family and *bound get what was used. */
int wm_udp_open(uint16_t port, uint32_t fwmark, int *family, uint16_t *bound);

/* Sends one datagram to an IPv4 or IPv6 address (IPv4 goes v4-mapped on
 * a dual-stack socket). 0 or -errno (-EAFNOSUPPORT: IPv6 on a v4 socket). */
int wm_udp_send(const struct wm_udp *u, const union wm_sockaddr *to,
		const void *buf, size_t len);

/* The dual-stack socket reports IPv4 senders as ::ffff:a.b.c.d; turn them
 * back into plain IPv4 so they compare equal to configured endpoints. */
void wm_udp_unmap(union wm_sockaddr *a);

#endif
