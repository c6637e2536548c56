/*
 * path.h - which way a peer's packets go: straight to its endpoint, through
 * the relay, or nowhere. Pure: the inputs are a few timestamps the agent
 * records on events, the time is an argument. The rules, per path mode:
 *
 *   relay   the relay when it is connected, else none
 *   direct  the endpoint when one is known, else none (never the relay)
 *   auto    direct while a direct path is proven (an authenticated packet
 *           or disco pong came straight from the endpoint within
 *           WM_DIRECT_TRUST_S); else the relay when it is connected —
 *           unless it just said the peer is not there and an endpoint is
 *           known (a plain WireGuard peer); else the endpoint if one is
 *           known; else none
 *
 * While auto has no proven direct path, handshake initiations go both ways
 * so that a direct path can prove itself (wm_path_probe_direct).
 *
 * The path a peer is shown with (API, metrics, events: wm_path_shown) is
 * the chosen one, but "none" when that is direct and the endpoint has not
 * proven itself alive (wm_path_direct_live): a direct-mode peer, or auto's
 * unproven fallback, still sends to its endpoint (that is how a path that
 * came back is found again), yet is not said to have a path. Alive means
 * an authenticated packet (WireGuard or a disco pong) straight from the
 * endpoint within the liveness window: WM_DIRECT_TRUST_S for a peer that
 * answers disco (it is pinged every WM_HEARTBEAT_S while direct, so three
 * missed answers), WM_DIRECT_LIVE_WG_S for a plain WireGuard peer, which
 * answers data with a keepalive within KEEPALIVE_TIMEOUT (10 s), plus
 * REKEY_TIMEOUT (5 s) for a handshake to get through. The relay path is
 * shown as "none" too when what went through it (a handshake initiation,
 * data with a payload) has had no authenticated WireGuard answer (either
 * way: a peer may answer straight) for WM_RELAY_SILENT_S, the same window
 * (the relay may be up and still hold the session of a peer that died or
 * froze).
 *
 * The agent decides a peer's path on events (a pong, a handshake, a
 * relay frame, a timeout, a mode change, the relay going up or down) and
 * caches it (agent/peer_path.c); sending reads the cached value.
 */
#ifndef WM_PATH_H
#define WM_PATH_H

#include <stdbool.h>
#include <stdint.h>

enum wm_path_mode { WM_PATH_AUTO, WM_PATH_DIRECT, WM_PATH_RELAY };

enum wm_via { WM_VIA_NONE = 0, WM_VIA_DIRECT, WM_VIA_RELAY };

enum { WM_DIRECT_TRUST_S = 6, WM_RELAY_GONE_HOLD_S = 10,
       WM_DIRECT_LIVE_WG_S = 15, WM_RELAY_SILENT_S = 15 };

/* What the choice rests on; monotonic ns, 0 = never. */
struct wm_path_state {
	uint64_t direct_rx_ns;  /* authenticated packet or pong straight
				 * from the endpoint */
	uint64_t relay_rx_ns;   /* authenticated packet through the relay */
	uint64_t relay_gone_ns; /* the relay said the peer is not connected */
	uint64_t disco_rx_ns;   /* a disco pong straight from the endpoint:
				 * the peer speaks disco (liveness window) */
	uint64_t wg_rx_ns;      /* authenticated WireGuard packet, either way */
	uint64_t relay_tx_since; /* sent through the relay what asks for an
				  * answer, none come back since (0: no) */
};

enum wm_via wm_path_choose(const struct wm_path_state *s,
			   enum wm_path_mode mode, bool has_endpoint,
			   bool relay_up, uint64_t now_ns);
/* A direct path is proven now (auto's first rule). */
bool wm_path_direct_proven(const struct wm_path_state *s, uint64_t now_ns);
/* The endpoint was heard from within the liveness window (above). */
bool wm_path_direct_live(const struct wm_path_state *s, uint64_t now_ns);
/* The path to show for the chosen one, via (see the top). */
enum wm_via wm_path_shown(const struct wm_path_state *s, enum wm_via via,
			  uint64_t now_ns);
/* Something that asks for an answer went through the relay. */
void wm_path_relay_sent(struct wm_path_state *s, uint64_t now_ns);
/* In auto mode without a proven direct path, also try the endpoint. */
bool wm_path_probe_direct(const struct wm_path_state *s,
			  enum wm_path_mode mode, bool has_endpoint,
			  uint64_t now_ns);
const char *wm_via_name(enum wm_via v);

#endif
