/*
 * peer_path.h - the one place a peer's path is decided: on an event (a
 * pong, a handshake, an authenticated packet, a relay frame or "gone", a
 * mode change, a relay going up or down, a timeout seen by the tick)
 * the caller reports it here; the choice (nat/path.h's rules) is cached
 * in p->via, which sending reads, and a change is queued as an event.
 * With it, which relay carries p (relays.h) is cached in p->relay.
 */
#ifndef WM_PEER_PATH_H
#define WM_PEER_PATH_H

#include "agent/device.h"

#include <stdbool.h>
#include <stdint.h>

/* Re-decides p's path now. */
void wm_peer_path_update(struct wm_device *dev, struct wm_peer *p,
			 uint64_t now_ns);
/* Re-decides every peer's path (the relay went up or down). */
void wm_peer_path_update_all(struct wm_device *dev, uint64_t now_ns);

/* Something authenticated came from p (WireGuard or disco, any path):
 * the start of its time to a direct path. */
void wm_peer_path_alive(struct wm_peer *p, uint64_t now_ns);

/* Authenticated traffic from p arrived: straight from src (roaming
 * moves the endpoint there), or through the relay (src NULL). */
void wm_peer_path_heard(struct wm_device *dev, struct wm_peer *p,
			const union wm_sockaddr *src, uint64_t now_ns);
/* A frame from p came through relay i: p is connected there, and goes
 * back through it (relays.h). */
void wm_peer_path_relay_frame(struct wm_device *dev, struct wm_peer *p,
			      int relay, uint64_t now_ns);
/* Relay i said p is not connected to it: p moves to the next relay. */
void wm_peer_path_gone(struct wm_device *dev, struct wm_peer *p, int relay,
		       uint64_t now_ns);
/* The home relay moved: every peer picks its relay again, home first. */
void wm_peer_path_rehome(struct wm_device *dev, uint64_t now_ns);
/* The operator set p's path mode (config, API). */
void wm_peer_path_set_mode(struct wm_device *dev, struct wm_peer *p,
			   enum wm_path_mode mode, uint64_t now_ns);

/* True when p's relay can carry frames now. */
bool wm_peer_path_relay_up(const struct wm_device *dev,
			   const struct wm_peer *p);

#endif
