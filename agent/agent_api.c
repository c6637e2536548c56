/* See agent_api.h. */
#include "agent/agent_api.h"
#include "agent/nat/portmap.h"
#include "agent/peer_path.h"
#include "agent/wg/clock.h"
#include "api/metrics.h"
#include "api/server.h"
#include "crypto/encoding.h"
#include "netif/ifstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int set_path_mode(void *ctx, struct wm_peer *p, enum wm_path_mode m)
{
	struct wm_agent_view *v = ctx;

	if (m != WM_PATH_AUTO && m != WM_PATH_DIRECT && m != WM_PATH_RELAY)
		return -EINVAL;
	/* A change takes effect at once: the path is decided now, and its
	 * event announced within the request. */
	wm_peer_path_set_mode(v->dev, p, m, wm_now_ns());
	if (v->deliver_events)
		v->deliver_events(v->ctx);
	return 0;
}

static int64_t peer_rtt_us(void *ctx, const struct wm_peer *p)
{
	struct wm_agent_view *v = ctx;

	if (p->shown == WM_VIA_DIRECT && p->disco.rtt_ns)
		return (int64_t)((p->disco.rtt_ns + 500) / 1000);
	if (p->shown == WM_VIA_RELAY && wm_relays_rtt(v->relays, p->relay))
		return (int64_t)((wm_relays_rtt(v->relays, p->relay) + 500) /
				 1000);
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

/* One relay as /v1/status's relays and relay_state events show it. */
static json_t *relay_json(const struct wm_relays *rs, int i)
{
	const struct wm_relay_client *rc = &rs->slot[i].rc;
	char key[WM_KEY_B64_LEN + 1];
	bool up = wm_relays_up(rs, i);
	uint64_t rtt = wm_relays_rtt(rs, i);

	wm_key_to_base64(key, rc->noise.remote_static);
	return json_pack("{s:s, s:s, s:b, s:s*, s:o, s:b}", "endpoint",
			 wm_relay_client_text(rc), "public_key", key, "connected", up,
			 "transport",
			 up ? wm_rc_transport_name(rc->transport) : NULL,
			 "rtt_us",
			 up && rtt ? json_integer((json_int_t)(rtt / 1000))
				   : json_null(),
			 "home", i == rs->home);
}

/* Per relay, for /metrics (api/ops.h): labels relay="endpoint". */
static void metrics_extra(void *ctx, FILE *f, const char *ifn)
{
	struct wm_agent_view *v = ctx;
	const struct wm_relays *rs = v->relays;
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "wiremesh_relay_up", "gauge", "1 while a session with the relay is up." },
		{ "wiremesh_relay_home", "gauge", "1 for the home relay." },
		{ "wiremesh_relay_rtt_seconds", "gauge", "Round-trip time to the relay (the lowest recent sample), where measured." },
		{ "wiremesh_relay_tx_frames_total", "counter", "Frames sent through the relay." },
		{ "wiremesh_relay_rx_frames_total", "counter", "Frames received through the relay." },
		{ "wiremesh_relay_tx_bytes_total", "counter", "Message bytes sent through the relay." },
		{ "wiremesh_relay_rx_bytes_total", "counter", "Message bytes received through the relay." },
		{ "wiremesh_relay_gone_total", "counter", "\"Not connected here\" answers about a peer." },
		{ "wiremesh_relay_connects_total", "counter", "Sessions established with the relay." },
		{ "wiremesh_relay_disconnects_total", "counter", "Sessions lost." },
	};

	if (!rs)
		return;
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam[k].name,
			fam[k].help, fam[k].name, fam[k].type);
		for (size_t i = 0; i < rs->n; i++) {
			const struct wm_relay_client *rc = &rs->slot[i].rc;
			const struct wm_relay_stats *st = &rc->stats;
			uint64_t val[] = {
				wm_relays_up(rs, (int)i), (int)i == rs->home, 0,
				st->tx_frames, st->rx_frames, st->tx_bytes,
				st->rx_bytes, st->gone, st->connects,
				st->disconnects,
			};
			char ep[128];

			wm_metrics_escape_label(ep, sizeof(ep), wm_relay_client_text(rc));
			if (k == 2) {
				if (wm_relays_rtt(rs, (int)i))
					fprintf(f, "%s{interface=\"%s\",relay=\"%s\"} %.6f\n",
						fam[k].name, ifn, ep,
						(double)wm_relays_rtt(rs, (int)i) / 1e9);
				continue;
			}
			fprintf(f, "%s{interface=\"%s\",relay=\"%s\"} %llu\n",
				fam[k].name, ifn, ep, (unsigned long long)val[k]);
		}
	}
}

/* {"method": "nat-pmp" | "upnp" | "none" | "off", "external": "ip:port"} */
static json_t *port_mapping_json(const struct wm_agent_view *v)
{
	struct wm_portmap_state st = { 0 };
	char buf[WM_SOCKADDR_STRLEN];

	if (!v->portmap)
		return json_pack("{s:s, s:n}", "method", "off", "external");
	wm_portmap_get(v->portmap, &st);
	return json_pack("{s:s, s:s*}", "method", wm_portmap_method_name(st.method),
			 "external", st.method ? wm_sockaddr_format(buf, sizeof(buf),
								    &st.external)
					       : NULL);
}

static void status_extra(void *ctx, json_t *status)
{
	struct wm_agent_view *v = ctx;
	union wm_sockaddr refl[WM_STUN_MAX_SERVERS];
	char buf[WM_SOCKADDR_STRLEN];
	uint64_t now = wm_now_ns();
	json_t *arr = json_array();
	size_t n = 0;

	if (v->relays && v->relays->n) {
		const struct wm_relays *rs = v->relays;
		/* "relay" is the home relay (the first while none is up). */
		int h = rs->home >= 0 ? rs->home : 0;
		bool up = wm_relays_up(rs, h);
		json_t *list = json_array();

		json_object_set_new(
			status, "relay",
			json_pack("{s:s, s:b, s:s*}", "endpoint",
				  wm_relay_client_text(&rs->slot[h].rc), "connected", up,
				  "transport",
				  up ? wm_rc_transport_name(rs->slot[h].rc.transport)
				     : NULL));
		for (size_t i = 0; i < rs->n; i++)
			json_array_append_new(list, relay_json(rs, (int)i));
		json_object_set_new(status, "relays", list);
	}
	if (v->stun)
		n = wm_stun_client_reflexive(v->stun, refl,
					     WM_STUN_MAX_SERVERS, now);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(wm_sockaddr_format(
						   buf, sizeof(buf), &refl[i])));
	json_object_set_new(status, "reflexive", arr);
	json_object_set_new(status, "port_mapping", port_mapping_json(v));
	json_object_set_new(
		status, "nat",
		json_pack("{s:s}", "mapping",
			  wm_nat_mapping_name(v->stun ? wm_stun_client_mapping(
							       v->stun, now)
						      : WM_NAT_UNKNOWN)));
}

static bool healthy(void *ctx, char *reason, size_t cap)
{
	struct wm_agent_view *v = ctx;
	const char *ifname = v->dev->ifname;
	int up = wm_netif_is_up(ifname);

	if (up < 0) {
		snprintf(reason, cap, "interface %s: %s", ifname,
			 up == -ENODEV ? "does not exist" : strerror(-up));
		return false;
	}
	if (!up) {
		snprintf(reason, cap, "interface %s is down", ifname);
		return false;
	}
	/* Several relays: healthy while one of them carries traffic. */
	if (v->relays && v->relays->n && !wm_relays_any_up(v->relays)) {
		const struct wm_relay_client *rc = &v->relays->slot[0].rc;

		if (v->relays->n == 1)
			snprintf(reason, cap, "relay %s is not connected",
				 wm_relay_client_text(rc));
		else
			snprintf(reason, cap, "none of the %zu relays is "
				 "connected", v->relays->n);
		return false;
	}
	return true;
}

static json_t *us_json(uint64_t ns)
{
	return ns ? json_integer((json_int_t)((ns + 500) / 1000)) : json_null();
}

/* GET /v1/netcheck: what the STUN client and the relay client know. A
 * STUN server counts as answering when it did since since_ns (the
 * netcheck's own probe), or, with since_ns 0, within the last three
 * refreshes. */
static void netcheck(void *ctx, json_t *out, uint64_t since_ns)
{
	struct wm_agent_view *v = ctx;
	char buf[WM_SOCKADDR_STRLEN];
	uint64_t now = wm_now_ns();
	json_t *stun = json_array(), *relays = json_array(), *st;
	bool udp = false;

	for (size_t i = 0; v->stun && i < v->stun->n; i++) {
		const struct wm_stun_server *s = &v->stun->servers[i];
		bool ok = since_ns ? s->answered_ns >= since_ns
				   : s->answered_ns &&
					     wm_since(now, s->answered_ns) <
						     3ULL * WM_STUN_REFRESH_S *
							     1000000000ULL;

		udp |= ok;
		json_array_append_new(
			stun, json_pack("{s:s,s:b,s:o,s:o}", "server", s->text,
					"answered", ok, "reflexive",
					ok ? json_string(wm_sockaddr_format(
						     buf, sizeof(buf), &s->mapped))
					   : json_null(),
					"latency_us", ok ? us_json(s->rtt_ns)
							 : json_null()));
	}
	for (size_t i = 0; v->relays && i < v->relays->n; i++) {
		const struct wm_relay_client *rc = &v->relays->slot[i].rc;
		bool up = wm_relays_up(v->relays, (int)i);

		/* A relay session over UDP is UDP working too. */
		udp |= up && rc->transport == WM_RC_UDP;
		json_array_append_new(
			relays,
			json_pack("{s:s,s:b,s:s*,s:o,s:b}", "endpoint",
				  wm_relay_client_text(rc), "connected", up, "transport",
				  up ? wm_rc_transport_name(rc->transport) : NULL,
				  "latency_us",
				  up ? us_json(wm_relays_rtt(v->relays, (int)i))
				     : json_null(),
				  "home", (int)i == v->relays->home));
	}
	json_object_set_new(out, "udp", json_boolean(udp));
	json_object_set_new(out, "stun", stun);
	json_object_set_new(out, "relays", relays);
	/* Reflexive addresses and the mapping, as /v1/status has them. */
	st = json_object();
	if (st) {
		status_extra(ctx, st);
		json_object_set(out, "reflexive",
				json_object_get(st, "reflexive"));
		json_object_set(out, "mapping",
				json_object_get(json_object_get(st, "nat"),
						"mapping"));
		json_decref(st);
	}
	/* NAT-PMP or UPnP IGD, as the port mapper found them. */
	json_object_set_new(out, "port_mapping", port_mapping_json(v));
}

static bool netcheck_probe(void *ctx, uint64_t now)
{
	struct wm_agent_view *v = ctx;

	if (!v->stun || !v->stun->n)
		return false;
	wm_stun_client_probe_now(v->stun, now);
	return true;
}

static bool netcheck_done(void *ctx, uint64_t since)
{
	struct wm_agent_view *v = ctx;

	return !v->stun || wm_stun_client_answered_since(v->stun, since);
}

static void peers_changed(void *ctx)
{
	struct wm_agent_view *v = ctx;

	if (v->peers_changed)
		v->peers_changed(v->ctx);
}

int wm_agent_api_open(struct wm_api **api, struct wm_loop *loop,
		      struct wm_agent_view *view)
{
	const struct wm_api_ops ops = {
		.peers_changed = peers_changed,
		.set_path_mode = set_path_mode,
		.peer_rtt_us = peer_rtt_us,
		.peer_candidates = peer_candidates,
		.status_extra = status_extra,
		.netcheck = netcheck,
		.netcheck_probe = netcheck_probe,
		.netcheck_done = netcheck_done,
		.metrics_extra = metrics_extra,
		.healthy = healthy,
		.ctx = view,
	};

	return wm_api_open(api, loop, view->dev, view->cfg, &ops);
}

void wm_agent_api_event(struct wm_api *api, const struct wm_event *ev,
			struct wm_peer *p)
{
	if (!api)
		return;
	switch (ev->type) {
	case WM_EVENT_HANDSHAKE:
		wm_api_peer_event(api, "handshake", p);
		break;
	case WM_EVENT_PATH:
		wm_api_peer_event(api, "path_changed", p);
		break;
	}
}

void wm_agent_api_peer_added(struct wm_api *api, const struct wm_peer *p)
{
	wm_api_peer_event(api, "peer_added", p);
}

void wm_agent_api_peer_removing(struct wm_api *api, const struct wm_peer *p)
{
	char key[WM_KEY_B64_LEN + 1];

	if (!api)
		return;
	wm_key_to_base64(key, p->public_key);
	wm_api_event(api, "peer_removed", json_pack("{s:s}", "public_key", key));
}

void wm_agent_api_relay_event(struct wm_api *api, const struct wm_relays *rs,
			      int i)
{
	if (api)
		wm_api_event(api, "relay_state", relay_json(rs, i));
}
