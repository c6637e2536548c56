/*
 * path.h - which way a peer's packets go: straight to its endpoint, through
 * the relay, or nowhere. The rules, per path mode:
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
 */
#ifndef WM_PATH_H
#define WM_PATH_H

#include <stdbool.h>
#include <stdint.h>

struct wm_peer;

enum wm_via { WM_VIA_NONE = 0, WM_VIA_DIRECT, WM_VIA_RELAY };

enum { WM_DIRECT_TRUST_S = 6, WM_RELAY_GONE_HOLD_S = 10 };

enum wm_via wm_path_choose(const struct wm_peer *p, bool relay_up,
			   uint64_t now_ns);
/* In auto mode without a proven direct path, also try the endpoint. */
bool wm_path_probe_direct(const struct wm_peer *p, uint64_t now_ns);
const char *wm_via_name(enum wm_via v);
/* Re-evaluates the peer's path and reports a change through the device's
 * path_changed hook. */
void wm_path_update(struct wm_peer *p, uint64_t now_ns);

#endif
