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

#include <stdbool.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* The socket and its family; fd -1 while closed. */
struct wm_udp {
	int fd;
	int family;   /* AF_INET6 (dual-stack) or AF_INET */
	bool gso;     /* UDP_SEGMENT works: runs of equal datagrams go as one */
	bool gro;     /* UDP_GRO is on: a read may hold several datagrams */
};

/* One datagram of a batch. */
struct wm_udp_tx {
	union wm_sockaddr to;
	const uint8_t *buf;
	size_t len;
	/* The local address it leaves from (IP(V6)_PKTINFO; port unused),
	 * for a server on a host with several; AF_UNSPEC (zero): any. */
	union wm_sockaddr from;
};

enum {
	/* At most this many datagrams in one UDP_SEGMENT send (the kernel's
	 * UDP_MAX_SEGMENTS), and at most WM_UDP_GSO_BYTES in all. */
	WM_UDP_GSO_SEGMENTS = 64,
	WM_UDP_GSO_BYTES = 65000,
};

/* Binds [::]:port (or 0.0.0.0:port without IPv6); port 0 picks one.
 * Returns the fd or -errno; *family and *bound get what was used. */
int wm_udp_open(uint16_t port, uint32_t fwmark, int *family, uint16_t *bound);

/* Sends one datagram to an IPv4 or IPv6 address (IPv4 goes v4-mapped on
 * a dual-stack socket). 0 or -errno (-EAFNOSUPPORT: IPv6 on a v4 socket). */
int wm_udp_send(const struct wm_udp *u, const union wm_sockaddr *to,
		const void *buf, size_t len);

/* Sends n datagrams in order: runs of equal-sized datagrams to one
 * address from one address (the last of a run may be shorter) go as one
 * UDP_SEGMENT send
 * while u->gso holds, the rest through sendmmsg. A GSO send the kernel
 * refuses (EIO: the route cannot segment) turns u->gso off for good and
 * is sent again datagram by datagram; a run refused for its size
 * (EMSGSIZE, or EINVAL on older kernels: segments above the route's MTU)
 * is sent again one by one with GSO left on. A datagram refused with a
 * source address (it left the host) is tried once more from any. Returns
 * how many failed. */
size_t wm_udp_send_batch(struct wm_udp *u, const struct wm_udp_tx *tx,
			 size_t n);

/* Turns on UDP_GRO receive (u->gro says whether the kernel took it) and
 * marks GSO as worth trying (u->gso). */
void wm_udp_offloads(struct wm_udp *u);

/* The segment size the kernel put in a received message's control data
 * (UDP_GRO), or 0 when the message is one datagram. */
size_t wm_udp_gro_size(const struct msghdr *m);

/* The dual-stack socket reports IPv4 senders as ::ffff:a.b.c.d; turn them
 * back into plain IPv4 so they compare equal to configured endpoints. */
void wm_udp_unmap(union wm_sockaddr *a);

#endif
