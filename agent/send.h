/*
 * send.h - the TUN -> UDP direction and everything the agent sends to a
 * peer: IP packets sealed under the current session (or staged until one
 * exists), keepalives, handshake initiations, and finished messages put
 * on the peer's cached path (p->via: straight to its endpoint, or
 * through the relay).
 *
 * Buffers: callers pass packets with WM_HEADROOM bytes free before them
 * and WM_TAILROOM after, so a packet is sealed in place. Data going
 * straight to an endpoint is sealed into the device's send batch instead
 * (tx_queue.h) when the agent turned it on; the loop sends the batch at
 * the end of each round.
 */
#ifndef WM_SEND_H
#define WM_SEND_H

#include "agent/device.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	WM_HEADROOM = 16,                  /* struct wm_msg_data */
	WM_TAILROOM = 16 + 16,             /* padding + tag */
	WM_MAX_PACKET = 65535,
	WM_BUF_SIZE = WM_HEADROOM + WM_MAX_PACKET + WM_TAILROOM,
};

/* A packet read from the TUN at pkt (with headroom) goes to its peer.
 * May modify pkt. */
void wm_send_ip_packet(struct wm_device *dev, uint8_t *pkt, size_t len,
		       uint64_t now_ns);

/* An empty transport packet, or a handshake if there is no session. */
void wm_send_keepalive(struct wm_device *dev, struct wm_peer *p,
		       uint64_t now_ns);

/* Sends whatever waited for a session, if one is usable now. */
void wm_send_staged(struct wm_device *dev, struct wm_peer *p, uint64_t now_ns);

/* Starts a handshake unless one went out less than REKEY_TIMEOUT ago.
 * is_retry keeps the attempt count (the retransmit timer's call). */
void wm_send_initiation(struct wm_device *dev, struct wm_peer *p,
			bool is_retry, uint64_t now_ns);

/* Puts a finished WireGuard message on the peer's path. 0 or -errno. */
int wm_send_to_peer(struct wm_device *dev, struct wm_peer *p,
		    const uint8_t *msg, size_t len, uint64_t now_ns);

/* Sends to an address from the agent's UDP socket (errors counted).
 * 0 or -errno. */
int wm_send_udp(struct wm_device *dev, const union wm_sockaddr *to,
		const void *buf, size_t len);

/* The same from the socket of p's direct path (p->direct_fd: a birthday
 * socket that won, else the agent's). 0 or -errno. */
int wm_send_peer_udp(struct wm_device *dev, const struct wm_peer *p,
		     const union wm_sockaddr *to, const void *buf, size_t len);

#endif
