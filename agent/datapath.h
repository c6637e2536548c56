/*
 * datapath.h - moving packets: TUN -> peer -> UDP (send.c), UDP -> demux ->
 * handshake or data -> TUN (receive.c), and the handshake messages that
 * make sessions (handshake.c). Protocol work is in noise.c, cookie.c and
 * transport.c; these files only glue it to the device and the sockets.
 *
 * Buffers: callers pass packets with WM_HEADROOM bytes free before them
 * and WM_TAILROOM after, so a packet is sealed in place.
 */
#ifndef WM_DATAPATH_H
#define WM_DATAPATH_H

#include "agent/device.h"
#include "netif/addr.h"

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
void wm_send_ip_packet(struct wm_device *dev, uint8_t *pkt, size_t len);

/* An empty transport packet, or a handshake if there is no session. */
void wm_send_keepalive(struct wm_peer *p);

/* Sends whatever waited for a session, if one is usable now. */
void wm_send_staged(struct wm_peer *p);

/* Puts a finished WireGuard message on the peer's path. 0 or -errno. */
int wm_send_to_peer(struct wm_peer *p, const uint8_t *msg, size_t len);

/* Sends to an address from the agent's UDP socket. 0 or -errno. */
int wm_send_udp(struct wm_device *dev, const union wm_sockaddr *to,
		const void *buf, size_t len);

/* One WireGuard message from src, or from the relay when src is NULL.
 * buf may be modified (decrypted in place). */
void wm_receive_datagram(struct wm_device *dev, uint8_t *buf, size_t len,
			 const union wm_sockaddr *src);

/* A message the relay delivered from the agent with key from. Dropped
 * (and counted) unless from is a configured peer. */
void wm_receive_relayed(struct wm_device *dev, const uint8_t from[32],
			uint8_t *buf, size_t len);

/* Starts a handshake unless one went out less than REKEY_TIMEOUT ago.
 * is_retry keeps the attempt count (the retransmit timer's call). */
void wm_handshake_initiate(struct wm_peer *p, bool is_retry);

void wm_handshake_receive_initiation(struct wm_device *dev, uint8_t *buf,
				     size_t len, const union wm_sockaddr *src);
void wm_handshake_receive_response(struct wm_device *dev, uint8_t *buf,
				   size_t len, const union wm_sockaddr *src);
void wm_handshake_receive_cookie(struct wm_device *dev, const uint8_t *buf,
				 size_t len);

#endif
