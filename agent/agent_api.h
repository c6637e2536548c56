/*
 * agent_api.h - the agent's side of the REST API (api/server.h): what
 * only the running agent knows (paths, RTTs, candidates, relay and NAT
 * state) and the changes it makes for the API (path modes). It sees the
 * agent through struct wm_agent_view and never calls agent.c.
 */
#ifndef WM_AGENT_API_H
#define WM_AGENT_API_H

#include "agent/config.h"
#include "agent/device.h"
#include "agent/event_queue.h"
#include "agent/loop.h"
#include "agent/nat/stun_client.h"
#include "agent/relays.h"

struct wm_api;

/* What the API adapter reads and calls; owned by the agent, it must
 * outlive the API. relays and stun may be NULL. */
struct wm_agent_view {
	struct wm_device *dev;
	struct wm_config *cfg;
	struct wm_relays *relays;
	struct wm_stun_client *stun;
	struct wm_portmap *portmap; /* NULL: PortMapping = off */
	/* Peers changed through the API: routes follow. */
	void (*peers_changed)(void *ctx);
	/* Delivers queued events now (a path change made by the API is
	 * announced within the request). */
	void (*deliver_events)(void *ctx);
	void *ctx;
};

/* Opens the REST API for view. 0 or -errno. */
int wm_agent_api_open(struct wm_api **api, struct wm_loop *loop,
		      struct wm_agent_view *view);
/* One queued event for the API's listeners (p still configured). */
void wm_agent_api_event(struct wm_api *api, const struct wm_event *ev,
			struct wm_peer *p);
/* Relay i's state for the API's listeners (a relay_state event: the
 * same object as in /v1/status's relays). */
/* A peer added or about to be removed by `wg set` (agent/uapi_proto.h):
 * peer_added / peer_removed, as the REST API's own changes announce. */
void wm_agent_api_peer_added(struct wm_api *api, const struct wm_peer *p);
void wm_agent_api_peer_removing(struct wm_api *api, const struct wm_peer *p);
void wm_agent_api_relay_event(struct wm_api *api, const struct wm_relays *rs,
			      int i);

#endif
