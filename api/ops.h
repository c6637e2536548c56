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
#include <stdbool.h>
#include <stddef.h>

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
	/* RTT of the path in use in microseconds, or -1 when unknown (the
	 * default). */
	int64_t (*peer_rtt_us)(void *ctx, const struct wm_peer *p);
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
	/* Fills GET /v1/netcheck's answer (api/openapi.yaml): "udp",
	 * "reflexive", "mapping", "stun", "relays", "port_mapping"
	 * {"method", "external"}; since_ns (0: none): when the netcheck's
	 * own probe went out, what STUN answers must be newer than. Default:
	 * nothing known. */
	void (*netcheck)(void *ctx, json_t *out, uint64_t since_ns);
	/* Before a netcheck: asks every STUN server again now; true when
	 * there is any to wait for. netcheck_done: all of them answered
	 * since since_ns. NULL: the answer is what is known already. */
	bool (*netcheck_probe)(void *ctx, uint64_t now_ns);
	bool (*netcheck_done)(void *ctx, uint64_t since_ns);
	/* Appends Prometheus families to /metrics (api/metrics.h; ifn is
	 * the escaped interface label). Default: none. */
	void (*metrics_extra)(void *ctx, FILE *f, const char *ifn);
	/* For GET /v1/health: true while the interface is up and, when a
	 * relay is configured, connected to it; else false with why in
	 * reason ("interface wm0 is down"). Default: healthy. */
	bool (*healthy)(void *ctx, char *reason, size_t cap);
	void *ctx;
};

#endif
