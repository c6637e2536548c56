/*
 * peer_path.h - the one place a peer's path is decided: on an event (a
 * pong, a handshake, an authenticated packet, a relay frame or "gone", a
 * mode change, the relay going up or down, a timeout seen by the tick)
 * the caller reports it here; the choice (nat/path.h's rules) is cached
 * in p->via, which sending reads, and a change is queued as an event.
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
/* The relay said p is not connected to it. */
void wm_peer_path_gone(struct wm_device *dev, struct wm_peer *p,
		       uint64_t now_ns);
/* The operator set p's path mode (config, API). */
void wm_peer_path_set_mode(struct wm_device *dev, struct wm_peer *p,
			   enum wm_path_mode mode, uint64_t now_ns);

/* True when the relay can carry frames now. */
bool wm_peer_path_relay_up(const struct wm_device *dev);

#endif
