/*
 * peer_disco.h - the agent's side of discovery (nat/discovery.h): opens
 * disco messages for the right peer, seals and sends what discovery asks
 * (straight to an address, or through the relay), and applies what it
 * learnt (an endpoint, a proven direct path) through the endpoint and
 * path functions.
 */
#ifndef WM_PEER_DISCO_H
#define WM_PEER_DISCO_H

#include "agent/device.h"
#include "agent/nat/disco.h"
#include "agent/nat/birthday.h"
#include "netif/addr.h"

#include <stddef.h>
#include <stdint.h>

/* A disco datagram from src, or relayed from the peer from (src NULL):
 * dropped and counted (NULL) unless it is an authentic, fresh message
 * from a peer (relayed: from that very peer), which discovery has acted
 * on; then the peer, with the message in msg for what discovery leaves
 * to others (a PONG answering `wiremesh ping`, agent/peer_ping.h). */
struct wm_peer *wm_peer_disco_receive(struct wm_device *dev,
				      const uint8_t *buf, size_t len,
				      const union wm_sockaddr *src,
				      struct wm_peer *from, uint64_t now_ns,
				      struct wm_disco_msg *msg);
/* Probes and heartbeats of p that are due. */
void wm_peer_disco_tick(struct wm_device *dev, struct wm_peer *p,
			uint64_t now_ns);
/* WireGuard got no answer over p's direct path: withdraw its proof. */
void wm_peer_disco_direct_failed(struct wm_device *dev, struct wm_peer *p,
				 uint64_t now_ns);
/* Our candidates (interface and STUN-reflexive addresses); when they
 * changed, every peer probes again at once. */
void wm_peer_disco_set_local(struct wm_device *dev,
			     const union wm_sockaddr *cands, size_t n);

/* Seals msg for p and sends it to `to` (from p's direct socket), or
 * through the relay when to is AF_UNSPEC. True when it went out. */
bool wm_peer_disco_send(struct wm_device *dev, struct wm_peer *p,
			struct wm_disco_msg *msg, const union wm_sockaddr *to);
/* Our NAT mapping as STUN sees it (enum wm_nat_mapping). */
int wm_peer_disco_our_mapping(const struct wm_device *dev, uint64_t now_ns);
/* What birthday probing needs to know of p and of us. */
void wm_peer_disco_bday_view(struct wm_device *dev, const struct wm_peer *p,
			     uint64_t now_ns, struct wm_bday_view *v);

#endif
