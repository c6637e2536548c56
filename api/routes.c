/* See routes.h. Handlers answer through the json.h family only; the HTTP
 * status is chosen here, at the edge, from parser results and -errno. */
#include "api/routes.h"
#include "api/context.h"
#include "api/json.h"
#include "api/metrics.h"
#include "api/peer_json.h"
#include "api/saveconfig.h"
#include "agent/peer_ping.h"
#include "agent/relays.h"
#include "agent/version.h"
#include "agent/wg/clock.h"
#include "crypto/encoding.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static bool has_relay(const struct wm_api_ctx *api)
{
	return api->cfg->n_relays > 0;
}

void wm_api_view(struct wm_api_ctx *api, const struct wm_peer *p,
		 struct wm_peer_view *v, bool cands)
{
	const struct wm_api_ops *o = &api->ops;

	uint64_t now = wm_now_ns();
	struct timespec wall = wm_wall_now();
	int64_t wall_ns = (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec;

	/* The path as the agent decided and shows it (agent/peer_path.c). */
	v->path = wm_via_name(p->shown);
	v->rtt_us = o->peer_rtt_us ? o->peer_rtt_us(o->ctx, p) : -1;
	v->rtt_ms = v->rtt_us >= 0 ? (int)((v->rtt_us + 500) / 1000) : -1;
	/* Monotonic stamps become wall-clock times as of now. */
	v->rx_direct_ms = p->rx_direct_ns
		? (wall_ns - (int64_t)wm_since(now, p->rx_direct_ns)) / 1000000
		: 0;
	v->rx_relay_ms = p->rx_relay_ns
		? (wall_ns - (int64_t)wm_since(now, p->rx_relay_ns)) / 1000000
		: 0;
	v->candidates = NULL;
	if (cands && o->peer_candidates) {
		v->candidates = json_array();
		if (v->candidates)
			o->peer_candidates(o->ctx, p, v->candidates);
	}
}

void wm_api_ctx_event(struct wm_api_ctx *api, const char *type,
		      json_t *data)
{
	wm_events_publish(&api->events, type, data);
	if (api->events.clients)
		api->wake = true;
	json_decref(data);
}

void wm_api_ctx_peer_event(struct wm_api_ctx *api, const char *type,
			   const struct wm_peer *p)
{
	char key[WM_KEY_B64_LEN + 1], ep[WM_SOCKADDR_STRLEN], when[32];
	struct wm_peer_view v;
	json_t *endpoint = json_null(), *handshake = json_null();

	if (p == api->mode_peer && strcmp(type, "path_changed") == 0)
		api->mode_event_seen = true;
	wm_api_view(api, p, &v, false);
	wm_key_to_base64(key, p->public_key);
	if (p->endpoint.sa.sa_family != AF_UNSPEC)
		endpoint = json_string(
			wm_sockaddr_format(ep, sizeof(ep), &p->endpoint));
	if (p->last_handshake_mono &&
	    wm_json_rfc3339(when, (int64_t)p->last_handshake_sec))
		handshake = json_string(when);
	wm_api_ctx_event(api, type,
			 json_pack("{s:s,s:s,s:s,s:o,s:o}", "public_key", key,
				   "path", v.path, "path_mode",
				   wm_path_mode_name(p->path_mode),
				   "endpoint", endpoint,
				   "last_handshake", handshake));
}

static void metrics_view(void *ctx, const struct wm_peer *p,
			 struct wm_peer_view *v)
{
	wm_api_view(ctx, p, v, false);
}

static json_t *peer_json(struct wm_api_ctx *api, const struct wm_peer *p)
{
	struct wm_peer_view v;

	wm_api_view(api, p, &v, true);
	return wm_peer_json_render(p, &v);
}

static json_t *peer_list(struct wm_api_ctx *api)
{
	json_t *arr = json_array();

	for (struct wm_peer *p = api->dev->peers; p && arr; p = p->next) {
		if (json_array_append_new(arr, peer_json(api, p)) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static json_t *key_json(const uint8_t key[32])
{
	char b64[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(b64, key);
	return json_string(b64);
}

/* After a change made through the API: routes follow, and with
 * SaveConfig the file. A failed save does not undo the change (it has
 * taken effect); it is logged. */
static void after_change(struct wm_api_ctx *api, bool peers)
{
	int r;

	if (peers && api->ops.peers_changed)
		api->ops.peers_changed(api->ops.ctx);
	if (!api->cfg->save_config)
		return;
	r = wm_saveconfig_write(api->cfg, api->dev);
	if (r < 0)
		fprintf(stderr, "%s: SaveConfig: %s\n", api->cfg->path,
			strerror(-r));
}

static int set_mode(struct wm_api_ctx *api, struct wm_peer *p,
		    enum wm_path_mode m)
{
	int r = 0;

	api->mode_peer = p;
	api->mode_event_seen = false;
	if (api->ops.set_path_mode)
		r = api->ops.set_path_mode(api->ops.ctx, p, m);
	else
		p->path_mode = m;
	api->mode_peer = NULL;
	/* The mode is news even when the path stays: the page shows it. */
	if (r == 0 && !api->mode_event_seen)
		wm_api_ctx_peer_event(api, "path_changed", p);
	return r;
}

static unsigned mode_errno_status(int r)
{
	switch (r) {
	case -EINVAL: return 422;
	case -ENOTSUP: case -ENOTCONN: case -EBUSY: return 409;
	default: return 500;
	}
}

static unsigned read_body(struct MHD_Connection *c, struct wm_api_request *r,
			  json_t **out, char *msg, size_t cap)
{
	const char *ct = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	return wm_json_parse_body(ct, r->body, r->len, out, msg, cap);
}

static wm_mhd_result not_found(struct MHD_Connection *c, const uint8_t key[32])
{
	char b64[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(b64, key);
	return wm_json_respond_error(c, 404, "no peer with public key %s", b64);
}

/* Checks that need the device and config: our own key, relay mode
 * without a relay. 0 or 409 with msg. */
static unsigned check_conflicts(struct wm_api_ctx *api,
				const struct wm_peer_update *u, char *msg,
				size_t cap)
{
	char b64[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(b64, u->pc.public_key);
	if (api->dev->has_private_key &&
	    memcmp(u->pc.public_key, api->dev->local.public_key, 32) == 0) {
		snprintf(msg, cap, "%s is this interface's own public key", b64);
		return 409;
	}
	if (u->pc.path_mode == WM_PATH_RELAY && !has_relay(api)) {
		snprintf(msg, cap, "peer %s: path_mode relay, but no Relay is "
				   "configured", b64);
		return 409;
	}
	return 0;
}

/* Applies one parsed peer; unchanged peers are not touched at all, so
 * sessions, counters and timers carry on. The path mode goes through the
 * agent. *created and *changed report what happened. 0 or -errno. */
static int apply(struct wm_api_ctx *api, struct wm_peer_update *u,
		 struct wm_peer **out, bool *created, bool *changed)
{
	struct wm_peer *p = wm_device_find_peer(api->dev, u->pc.public_key);
	enum wm_path_mode want = u->pc.path_mode;
	int r;

	*created = !p;
	*changed = false;
	wm_peer_json_merge(u, p);
	if (p && wm_peer_json_same(u, p)) {
		*out = p;
		return 0;
	}
	*changed = true;
	if (p)
		u->pc.path_mode = p->path_mode;
	r = wm_device_apply_peer(api->dev, &u->pc, &p);
	if (r < 0)
		return r;
	*out = p;
	if (!*created && want != p->path_mode)
		r = set_mode(api, p, want);
	if (*created)
		wm_api_ctx_peer_event(api, "peer_added", p);
	return r;
}

/* --------------------------------------------------------------- handlers */

static wm_mhd_result h_status(struct wm_api_ctx *api, struct MHD_Connection *c,
			      struct wm_api_request *r)
{
	const struct wm_config *cfg = api->cfg;
	char pk[WM_KEY_B64_LEN + 1];
	json_t *st;

	(void)r;
	wm_key_to_base64(pk, api->dev->local.public_key);
	st = json_pack("{s:s,s:o,s:i,s:{s:o,s:b,s:n},s:[],s:{s:s},s:I,s:s}",
		       "interface", api->dev->ifname,
		       "public_key", api->dev->has_private_key ? json_string(pk)
							       : json_null(),
		       "listen_port", (int)api->dev->listen_port,
		       "relay",
		       "endpoint", cfg->n_relays && cfg->relays[0].endpoint[0]
				   ? json_string(cfg->relays[0].endpoint)
				   : cfg->n_relays ? json_string(cfg->relays[0].tcp)
						   : json_null(),
		       "connected", 0, "transport",
		       "reflexive",
		       "nat", "mapping", "unknown",
		       "peer_count", (json_int_t)api->dev->peer_count,
		       "version", WM_VERSION);
	if (st && api->ops.status_extra)
		api->ops.status_extra(api->ops.ctx, st);
	return wm_json_respond(c, 200, st);
}

/* A probe for orchestration: 200 {"status":"ok"}, or 503 with why, in
 * the probe's own fields and, like every other failure, as "error". */
static wm_mhd_result h_health(struct wm_api_ctx *api, struct MHD_Connection *c,
			      struct wm_api_request *r)
{
	char why[160] = "";
	json_t *err, *body;

	(void)r;
	if (!api->ops.healthy || api->ops.healthy(api->ops.ctx, why, sizeof(why)))
		return wm_json_respond(c, 200, json_pack("{s:s}", "status", "ok"));
	err = wm_json_error_body(503, why);
	body = json_pack("{s:s,s:s,s:O}", "status", "unavailable", "reason", why,
			 "error", json_object_get(err, "error"));
	json_decref(err);
	return wm_json_respond(c, 503, body);
}

static wm_mhd_result h_peers_get(struct wm_api_ctx *api, struct MHD_Connection *c,
				 struct wm_api_request *r)
{
	(void)r;
	return wm_json_respond(c, 200, json_pack("{s:o}", "peers",
						 peer_list(api)));
}

static wm_mhd_result h_peer_get(struct wm_api_ctx *api, struct MHD_Connection *c,
				struct wm_api_request *r)
{
	struct wm_peer *p = wm_device_find_peer(api->dev, r->key);

	if (!p)
		return not_found(c, r->key);
	return wm_json_respond(c, 200, peer_json(api, p));
}

static wm_mhd_result h_peer_put(struct wm_api_ctx *api, struct MHD_Connection *c,
				struct wm_api_request *r)
{
	struct wm_peer_update u;
	struct wm_peer *p = NULL;
	bool created, changed;
	char msg[300];
	json_t *body;
	unsigned st;
	int e;

	st = read_body(c, r, &body, msg, sizeof(msg));
	if (st)
		return wm_json_respond_error(c, st, "%s", msg);
	st = wm_peer_json_parse(&u, body, r->key, msg, sizeof(msg));
	json_decref(body);
	if (st)
		return wm_json_respond_error(c, st, "%s", msg);
	st = check_conflicts(api, &u, msg, sizeof(msg));
	if (st) {
		wm_peer_update_free(&u);
		return wm_json_respond_error(c, st, "%s", msg);
	}
	e = apply(api, &u, &p, &created, &changed);
	wm_peer_update_free(&u);
	if (changed)
		after_change(api, true);
	if (e < 0 && !p)
		return wm_json_respond_error(c, 500, "adding the peer: %s",
					     strerror(-e));
	if (e < 0)
		return wm_json_respond_error(c, mode_errno_status(e),
					     "the peer was updated, but its "
					     "path mode was refused: %s",
					     strerror(-e));
	return wm_json_respond(c, created ? 201 : 200, peer_json(api, p));
}

static wm_mhd_result h_peer_delete(struct wm_api_ctx *api, struct MHD_Connection *c,
				   struct wm_api_request *r)
{
	struct wm_peer *p = wm_device_find_peer(api->dev, r->key);

	if (!p)
		return not_found(c, r->key);
	wm_api_ctx_event(api, "peer_removed",
			 json_pack("{s:o}", "public_key",
				   key_json(p->public_key)));
	wm_device_remove_peer(api->dev, p);
	after_change(api, true);
	return wm_json_respond_empty(c, 204);
}

static wm_mhd_result h_path_put(struct wm_api_ctx *api, struct MHD_Connection *c,
				struct wm_api_request *r)
{
	struct wm_peer *p;
	enum wm_path_mode m;
	char msg[300];
	json_t *body;
	unsigned st;
	int e;

	st = read_body(c, r, &body, msg, sizeof(msg));
	if (st)
		return wm_json_respond_error(c, st, "%s", msg);
	st = wm_peer_json_parse_mode(&m, body, msg, sizeof(msg));
	json_decref(body);
	if (st)
		return wm_json_respond_error(c, st, "%s", msg);
	p = wm_device_find_peer(api->dev, r->key);
	if (!p)
		return not_found(c, r->key);
	if (m == WM_PATH_RELAY && !has_relay(api))
		return wm_json_respond_error(c, 409, "no Relay is configured");
	if (m != p->path_mode) {
		e = set_mode(api, p, m);
		if (e < 0)
			return wm_json_respond_error(c, mode_errno_status(e),
						     "path mode %s refused: %s",
						     wm_path_mode_name(m),
						     strerror(-e));
		after_change(api, false);
	}
	return wm_json_respond(c, 200, peer_json(api, p));
}

static bool in_set(const struct wm_peer_update *u, size_t n,
		   const uint8_t key[32])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(u[i].pc.public_key, key, 32) == 0)
			return true;
	return false;
}

/* wg syncconf over HTTP: validate everything first, then remove what is
 * gone and apply the rest, touching only peers that differ. */
static wm_mhd_result h_peers_put(struct wm_api_ctx *api, struct MHD_Connection *c,
				 struct wm_api_request *r)
{
	json_t *added = json_array(), *changed = json_array();
	json_t *removed = json_array(), *body;
	struct wm_peer_update *u = NULL;
	struct wm_peer *p, *next;
	bool any = false;
	char msg[400];
	size_t n = 0, i;
	unsigned st;
	int e = 0;

	st = read_body(c, r, &body, msg, sizeof(msg));
	if (st)
		goto refuse;
	st = wm_peer_json_parse_set(&u, &n, body, msg, sizeof(msg));
	json_decref(body);
	if (st)
		goto refuse;
	for (i = 0; i < n && !st; i++)
		st = check_conflicts(api, &u[i], msg, sizeof(msg));
	if (st)
		goto refuse;
	for (p = api->dev->peers; p; p = next) {
		next = p->next;
		if (in_set(u, n, p->public_key))
			continue;
		json_array_append_new(removed, key_json(p->public_key));
		wm_api_ctx_event(api, "peer_removed",
				 json_pack("{s:o}", "public_key",
					   key_json(p->public_key)));
		wm_device_remove_peer(api->dev, p);
		any = true;
	}
	for (i = 0; i < n && e == 0; i++) {
		bool cr, ch;
		e = apply(api, &u[i], &p, &cr, &ch);
		if (ch)
			json_array_append_new(cr ? added : changed,
					      key_json(u[i].pc.public_key));
		any |= ch;
	}
	for (i = 0; i < n; i++)
		wm_peer_update_free(&u[i]);
	free(u);
	if (any)
		after_change(api, true);
	if (e < 0) {
		json_decref(added);
		json_decref(changed);
		json_decref(removed);
		return wm_json_respond_error(c, e == -ENOMEM ? 500
					     : mode_errno_status(e),
					     "applying peers[%zu] failed, "
					     "earlier ones took effect: %s",
					     i - 1, strerror(-e));
	}
	return wm_json_respond(c, 200, json_pack("{s:o,s:o,s:o,s:o}",
						 "peers", peer_list(api),
						 "added", added,
						 "changed", changed,
						 "removed", removed));
refuse:
	if (u) {
		for (i = 0; i < n; i++)
			wm_peer_update_free(&u[i]);
		free(u);
	}
	json_decref(added);
	json_decref(changed);
	json_decref(removed);
	return wm_json_respond_error(c, st, "%s", msg);
}

static wm_mhd_result h_events(struct wm_api_ctx *api, struct MHD_Connection *c,
			      struct wm_api_request *r)
{
	(void)r;
	return wm_events_start(&api->events, c);
}

static wm_mhd_result h_metrics(struct wm_api_ctx *api, struct MHD_Connection *c,
			       struct wm_api_request *r)
{
	size_t len = 0;
	char *text = wm_metrics_render_with(api->dev, metrics_view, api,
					    api->ops.metrics_extra,
					    api->ops.ctx, &len);

	(void)r;
	if (!text)
		return wm_json_respond_error(c, 500, "out of memory");
	return wm_json_respond_text(c, 200,
				    "text/plain; version=0.0.4; charset=utf-8",
				    text, len);
}

/* ------------------------------------------- ping, netcheck (issue 15) */

enum { WM_PING_TIMEOUT_MS = 1000, WM_PING_TIMEOUT_MAX_MS = 5000 };

static bool ping_ready(struct wm_api_ctx *api, struct wm_api_request *r)
{
	(void)api;
	return wm_peer_ping_done(r->state);
}

static void ping_cleanup(struct wm_api_ctx *api, struct wm_api_request *r)
{
	wm_peer_ping_stop(api->dev, r->state);
	free(r->state);
	r->state = NULL;
}

static json_t *ping_target_json(struct wm_api_ctx *api,
				const struct wm_ping_target *t)
{
	char to[WM_SOCKADDR_STRLEN], from[WM_SOCKADDR_STRLEN];
	const struct wm_relays *rs = api->dev->relays;
	const char *relay = api->cfg->relay[0] ? api->cfg->relay
						: api->cfg->relay_tcp;

	/* The relay the PING went through, by its address. */
	if (t->relay && rs && t->relay_index >= 0 &&
	    (size_t)t->relay_index < rs->n)
		relay = wm_relay_client_text(&rs->slot[t->relay_index].rc);

	return json_pack("{s:s,s:s,s:b,s:b,s:o,s:o}",
			 "via", t->relay ? "relay" : "direct",
			 "to", t->relay ? relay
					: wm_sockaddr_format(to, sizeof(to), &t->to),
			 "current", t->current, "sent", t->sent,
			 "rtt_us", t->rtt_ns ? json_integer((json_int_t)(
						       (t->rtt_ns + 500) / 1000))
					     : json_null(),
			 "from", !t->relay && t->rtt_ns
					 ? json_string(wm_sockaddr_format(
						   from, sizeof(from), &t->from))
					 : json_null());
}

static wm_mhd_result ping_answer(struct wm_api_ctx *api,
				 struct MHD_Connection *c,
				 struct wm_api_request *r)
{
	const struct wm_ping_set *s = r->state;
	struct wm_peer *p = wm_device_find_peer(api->dev, s->key);
	json_t *res = json_array();

	for (size_t i = 0; i < s->n && res; i++)
		json_array_append_new(res, ping_target_json(api, &s->t[i]));
	return wm_json_respond(
		c, 200,
		json_pack("{s:o,s:o,s:s,s:o}", "public_key", key_json(s->key),
			  "name", p && p->name[0] ? json_string(p->name)
						  : json_null(),
			  "path", p ? wm_via_name(p->shown) : "none",
			  "results", res));
}

/* ?timeout_ms=N of a request that waits: 1..WM_PING_TIMEOUT_MAX_MS, by
 * default WM_PING_TIMEOUT_MS. False when it is given and not that. */
static bool timeout_arg(struct MHD_Connection *c, unsigned long *out)
{
	const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    "timeout_ms");
	char *end;

	*out = WM_PING_TIMEOUT_MS;
	if (!t)
		return true;
	*out = strtoul(t, &end, 10);
	return *t >= '0' && *t <= '9' && !*end && *out >= 1 &&
	       *out <= WM_PING_TIMEOUT_MAX_MS;
}

/* Parks r (its ready and cleanup set) until ready or timeout_ms, then
 * answers with resume (context.h). */
static wm_mhd_result wait_for(struct wm_api_ctx *api, struct MHD_Connection *c,
			      struct wm_api_request *r,
			      wm_mhd_result (*resume)(struct wm_api_ctx *,
						      struct MHD_Connection *,
						      struct wm_api_request *),
			      uint64_t now, unsigned long timeout_ms)
{
	r->resume = resume;
	r->conn = c;
	r->deadline_ns = now + (uint64_t)timeout_ms * 1000000ULL;
	r->next_waiting = api->waiting;
	api->waiting = r;
	MHD_suspend_connection(c);
	return MHD_YES;
}

/* POST /v1/peers/{key}/ping[?timeout_ms=N]: one PING per candidate and
 * one through the relay; answered when all PONGs are in or at the
 * timeout, with what came back (peer_ping.h). */
static wm_mhd_result h_ping(struct wm_api_ctx *api, struct MHD_Connection *c,
			    struct wm_api_request *r)
{
	struct wm_peer *p = wm_device_find_peer(api->dev, r->key);
	unsigned long timeout;
	struct wm_ping_set *s;
	uint64_t now = wm_now_ns();

	if (!timeout_arg(c, &timeout))
		return wm_json_respond_error(c, 422,
					     "timeout_ms: 1..%d is required",
					     WM_PING_TIMEOUT_MAX_MS);
	if (!p)
		return not_found(c, r->key);
	s = calloc(1, sizeof(*s));
	if (!s)
		return wm_json_respond_error(c, 500, "out of memory");
	if (!wm_peer_ping_start(api->dev, p, s, now)) {
		free(s);
		return wm_json_respond_error(c, 409, "the peer has no endpoint "
						     "or candidate and no relay "
						     "is up: nowhere to ping");
	}
	r->state = s;
	r->cleanup = ping_cleanup;
	r->ready = ping_ready;
	return wait_for(api, c, r, ping_answer, now, timeout);
}

static wm_mhd_result netcheck_answer(struct wm_api_ctx *api,
				     struct MHD_Connection *c,
				     struct wm_api_request *r)
{
	json_t *out = json_pack("{s:b,s:[],s:s,s:[],s:[],s:{s:s,s:n}}", "udp",
				0, "reflexive", "mapping", "unknown", "stun",
				"relays", "port_mapping", "method", "off",
				"external");

	if (out && api->ops.netcheck)
		api->ops.netcheck(api->ops.ctx, out, r->since_ns);
	return wm_json_respond(c, 200, out);
}

static bool netcheck_ready(struct wm_api_ctx *api, struct wm_api_request *r)
{
	return api->ops.netcheck_done(api->ops.ctx, r->since_ns);
}

/* GET /v1/netcheck[?timeout_ms=N]: every STUN server is asked again and
 * the answer waits for them (or the timeout), so it is news, not the
 * last round's. */
static wm_mhd_result h_netcheck(struct wm_api_ctx *api,
				struct MHD_Connection *c,
				struct wm_api_request *r)
{
	uint64_t now = wm_now_ns();
	unsigned long timeout;

	if (!timeout_arg(c, &timeout))
		return wm_json_respond_error(c, 422,
					     "timeout_ms: 1..%d is required",
					     WM_PING_TIMEOUT_MAX_MS);
	if (!api->ops.netcheck_probe || !api->ops.netcheck_done ||
	    !api->ops.netcheck_probe(api->ops.ctx, now))
		return netcheck_answer(api, c, r);
	r->since_ns = now;
	r->ready = netcheck_ready;
	return wait_for(api, c, r, netcheck_answer, now, timeout);
}

/* ------------------------------------------ the status page (issue 15) */

static wm_mhd_result h_page(struct wm_api_ctx *api, struct MHD_Connection *c,
			    struct wm_api_request *r)
{
	(void)api;
	(void)r;
	return wm_json_respond_page(c, wm_page_html, wm_page_html_len);
}

/* The page's event stream needs a cookie (api/browser.h). */
static wm_mhd_result h_session(struct wm_api_ctx *api,
			       struct MHD_Connection *c,
			       struct wm_api_request *r)
{
	char cookie[160];

	(void)r;
	if (wm_browser_session_new(&api->sessions, wm_now_ns(), cookie,
				   sizeof(cookie)) < 0)
		return wm_json_respond_error(c, 500, "no randomness");
	return wm_json_respond_empty_hdr(c, 204, MHD_HTTP_HEADER_SET_COOKIE,
					 cookie);
}

bool wm_api_route_public(const struct wm_api_route *rt)
{
	return rt && rt->fn == h_page;
}

bool wm_api_route_cookie(const struct wm_api_route *rt)
{
	return rt && rt->fn == h_events;
}

/* ------------------------------------------------------------ the table */

const struct wm_api_route wm_api_routes[] = {
	{ "GET", "/v1/status", false, h_status, { 200, 401, 500 } },
	{ "GET", "/v1/health", false, h_health, { 200, 401, 500, 503 } },
	{ "GET", "/v1/peers", false, h_peers_get, { 200, 401, 500 } },
	{ "PUT", "/v1/peers", true, h_peers_put,
	  { 200, 400, 401, 409, 413, 415, 422, 500 } },
	{ "GET", "/v1/peers/{key}", false, h_peer_get,
	  { 200, 400, 401, 404, 500 } },
	{ "PUT", "/v1/peers/{key}", true, h_peer_put,
	  { 200, 201, 400, 401, 409, 413, 415, 422, 500 } },
	{ "DELETE", "/v1/peers/{key}", false, h_peer_delete,
	  { 204, 400, 401, 404 } },
	{ "PUT", "/v1/peers/{key}/path", true, h_path_put,
	  { 200, 400, 401, 404, 409, 413, 415, 422, 500 } },
	{ "GET", "/v1/events", false, h_events, { 200, 401, 500, 503 } },
	/* issue 15: ping, netcheck */
	{ "POST", "/v1/peers/{key}/ping", false, h_ping,
	  { 200, 400, 401, 404, 409, 422, 500 } },
	{ "GET", "/v1/netcheck", false, h_netcheck, { 200, 401, 422, 500 } },
	{ "GET", "/", false, h_page, { 200 } },
	{ "POST", "/v1/session", false, h_session, { 204, 401, 500 } },
	{ "GET", "/metrics", false, h_metrics, { 200, 401, 500 } },
};
const size_t wm_api_n_routes = sizeof(wm_api_routes) / sizeof(wm_api_routes[0]);

/* ------------------------------------------------------------ the router */

/* Matches the pattern segment by segment; "{key}" takes one segment. */
static bool pattern_match(const char *pat, const char *path, size_t plen,
			  const char **key, size_t *key_len)
{
	const char *end = path + plen;

	*key = NULL;
	while (*pat && path < end) {
		const char *seg_end;

		if (*pat != '/' || *path != '/')
			return false;
		pat++;
		path++;
		seg_end = memchr(path, '/', (size_t)(end - path));
		if (!seg_end)
			seg_end = end;
		if (strncmp(pat, "{key}", 5) == 0) {
			if (seg_end == path)
				return false;
			*key = path;
			*key_len = (size_t)(seg_end - path);
			pat += 5;
		} else {
			size_t n = strcspn(pat, "/");
			if (n != (size_t)(seg_end - path) ||
			    memcmp(pat, path, n) != 0)
				return false;
			pat += n;
		}
		path = seg_end;
	}
	return *pat == '\0' && path == end;
}

const struct wm_api_route *wm_api_route_match(const char *method,
					      const char *path,
					      uint8_t key[32],
					      unsigned *status, char *allow,
					      size_t allow_cap)
{
	const struct wm_api_route *found = NULL;
	const char *k = NULL;
	size_t plen = strlen(path), klen = 0, used = 0;
	bool path_known = false;

	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	/* "/v1/peers/" is "/v1/peers". */
	if (plen > 1 && path[plen - 1] == '/')
		plen--;
	if (allow_cap)
		allow[0] = '\0';
	for (size_t i = 0; i < wm_api_n_routes; i++) {
		const struct wm_api_route *rt = &wm_api_routes[i];
		const char *rk;
		size_t rkl = 0;

		if (!pattern_match(rt->pattern, path, plen, &rk, &rkl))
			continue;
		path_known = true;
		if (allow_cap && used < allow_cap)
			used += (size_t)snprintf(allow + used, allow_cap - used,
						 "%s%s", used ? ", " : "",
						 rt->method);
		if (!found && strcmp(rt->method, method) == 0) {
			found = rt;
			k = rk;
			klen = rkl;
		}
	}
	if (!found) {
		*status = path_known ? 405 : 404;
		return NULL;
	}
	if (k && !wm_peer_json_url_key(key, k, klen)) {
		*status = 400;
		return NULL;
	}
	*status = 0;
	return found;
}
