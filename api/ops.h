/*
 * ops.h - what the running agent tells the REST API and does for it:
 * struct wm_api_ops, given to wm_api_open (api/server.h) and handed down
 * to the handlers (api/context.h). Only the agent knows a peer's path,
 * RTT and candidates, the relay's state, and how to change a path mode.
 */
#ifndef WM_API_OPS_H
#define WM_API_OPS_H

#include "agent/config.h"
#include "agent/peer.h"

#include <jansson.h>
#include <stdio.h>

/* What the agent supplies. Every member may be NULL; the default is
 * given with each. All are called on the control thread. */
struct wm_api_ops {
	/* Peers were added, removed or changed through the API (routes
	 * follow). Called once per request that changed something.
	 * SaveConfig is handled by the API itself (api/saveconfig.h). */
	void (*peers_changed)(void *ctx);
	/* Sets p's path mode and re-selects its path. 0 or -errno: -EINVAL
	 * answers 422; -ENOTSUP, -ENOTCONN, -EBUSY 409; others 500. A
	 * path_changed event sent (through wm_api_event) during the call is
	 * the one for this change; else the API sends one afterwards.
	 * Default: p->path_mode = m. */
	int (*set_path_mode)(void *ctx, struct wm_peer *p, enum wm_path_mode m);
	/* RTT of the path in use in ms, or -1 when unknown (the default). */
	int (*peer_rtt_ms)(void *ctx, const struct wm_peer *p);
	/* Appends the peer's candidate endpoints ("ip:port" strings) to
	 * arr. Default: none. */
	void (*peer_candidates)(void *ctx, const struct wm_peer *p,
				json_t *arr);
	/* Overwrites status fields it knows: "relay" {"endpoint",
	 * "connected", "transport": "udp"|"tcp"|"tls"|null} (the home
	 * relay), "relays" [{"endpoint", "public_key", "connected",
	 * "transport", "rtt_us", "home"}], "reflexive"
	 * ["ip:port"...], "nat" {"mapping": "endpoint-independent" |
	 * "endpoint-dependent" | "unknown"}. Defaults: the configured relay,
	 * not connected, [], "unknown". */
	void (*status_extra)(void *ctx, json_t *status);
	/* Appends Prometheus families to /metrics (api/metrics.h; ifn is
	 * the escaped interface label). Default: none. */
	void (*metrics_extra)(void *ctx, FILE *f, const char *ifn);
	void *ctx;
};

#endif
