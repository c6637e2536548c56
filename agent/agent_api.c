/* The agent's side of the REST API (api/server.h): what only the running
 * agent knows — paths, RTTs, candidates, relay and NAT state — and the
 * events it raises. */
#include "agent/agent.h"
#include "agent/wg/clock.h"
#include "agent/nat/discovery.h"
#include "agent/nat/path.h"
#include "api/server.h"

#include <errno.h>
#include <stdio.h>

static int set_path_mode(void *ctx, struct wm_peer *p, enum wm_path_mode m)
{
	uint64_t now = wm_now_ns();

	(void)ctx;
	if (m != WM_PATH_AUTO && m != WM_PATH_DIRECT && m != WM_PATH_RELAY)
		return -EINVAL;
	if (p->path_mode == m)
		return 0;
	p->path_mode = m;
	wm_discovery_reset(p);
	/* A change takes effect at once: pick the path now and, if it
	 * needs a session there, start a handshake on it. */
	wm_path_update(p, now);
	return 0;
}

static const char *peer_path(void *ctx, const struct wm_peer *p)
{
	struct wm_agent *a = ctx;

	return wm_via_name(wm_path_choose(p, wm_relay_client_up(a->dev.relay),
					  wm_now_ns()));
}

static int peer_rtt_ms(void *ctx, const struct wm_peer *p)
{
	struct wm_agent *a = ctx;
	enum wm_via v = wm_path_choose(p, wm_relay_client_up(a->dev.relay),
				       wm_now_ns());

	if (v == WM_VIA_DIRECT && p->disco.rtt_ns)
		return (int)((p->disco.rtt_ns + 500000) / 1000000);
	if (v == WM_VIA_RELAY && a->relay.rtt_ns)
		return (int)((a->relay.rtt_ns + 500000) / 1000000);
	return -1;
}

static void peer_candidates(void *ctx, const struct wm_peer *p, json_t *arr)
{
	char buf[WM_SOCKADDR_STRLEN];

	(void)ctx;
	for (size_t i = 0; i < p->disco.n_cand; i++)
		json_array_append_new(
			arr, json_string(wm_sockaddr_format(buf, sizeof(buf),
							    &p->disco.cand[i].addr)));
}

static void status_extra(void *ctx, json_t *status)
{
	struct wm_agent *a = ctx;
	union wm_sockaddr refl[WM_STUN_MAX_SERVERS];
	char buf[WM_SOCKADDR_STRLEN];
	uint64_t now = wm_now_ns();
	json_t *arr = json_array();
	size_t n = 0;

	if (a->dev.relay) {
		bool up = wm_relay_client_up(a->dev.relay);
		json_object_set_new(
			status, "relay",
			json_pack("{s:s, s:b, s:s*}", "endpoint", a->cfg.relay,
				  "connected", up, "transport",
				  up ? wm_rc_transport_name(a->relay.transport)
				     : NULL));
	}
	if (a->dev.stun)
		n = wm_stun_client_reflexive(a->dev.stun, refl,
					     WM_STUN_MAX_SERVERS, now);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(wm_sockaddr_format(
						   buf, sizeof(buf), &refl[i])));
	json_object_set_new(status, "reflexive", arr);
	json_object_set_new(
		status, "nat",
		json_pack("{s:s}", "mapping",
			  wm_nat_mapping_name(a->dev.stun ? wm_stun_client_mapping(
							       a->dev.stun, now)
							 : WM_NAT_UNKNOWN)));
}

static void peers_changed(void *ctx)
{
	wm_agent_peers_changed(ctx);
}

int wm_agent_api_open(struct wm_agent *a)
{
	const struct wm_api_ops ops = {
		.peers_changed = peers_changed,
		.set_path_mode = set_path_mode,
		.peer_path = peer_path,
		.peer_rtt_ms = peer_rtt_ms,
		.peer_candidates = peer_candidates,
		.status_extra = status_extra,
		.ctx = a,
	};

	return wm_api_open(&a->api, &a->loop, &a->dev, &a->cfg, &ops);
}

void wm_agent_event(struct wm_agent *a, const char *type, struct wm_peer *p)
{
	if (a->api)
		wm_api_peer_event(a->api, type, p);
}
