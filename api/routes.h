/*
 * routes.h - the REST API's route table and its handlers (routes.c).
 *
 * wm_api_routes[] is the single list of what the API serves: method, path
 * pattern ("{key}" is a peer key segment), and every status the handler
 * can answer. tests/unit/test_api.c checks api/openapi.yaml against it,
 * so the document cannot drift from the code. 405 (another method on a
 * known path, with Allow) and 404 (an unknown path) come from the router,
 * not a handler, and are described once in the document's info.
 *
 * Handlers get the API's context (api/context.h) from server.c, which
 * owns the daemons and the dispatch; nothing here calls back up into it.
 * The events they raise are queued with wm_api_ctx_event.
 */
#ifndef WM_API_ROUTES_H
#define WM_API_ROUTES_H

#include "api/context.h"
#include "api/mhd_compat.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_peer_view;

enum { WM_API_ROUTE_STATUSES = 12 };

struct wm_api_route {
	const char *method;  /* "GET", "PUT", "DELETE" */
	const char *pattern; /* "/v1/peers/{key}/path" */
	bool has_body;       /* a JSON body is required */
	wm_mhd_result (*fn)(struct wm_api_ctx *api, struct MHD_Connection *c,
			    struct wm_api_request *r);
	unsigned short statuses[WM_API_ROUTE_STATUSES]; /* 0-terminated */
};

extern const struct wm_api_route wm_api_routes[];
extern const size_t wm_api_n_routes;

/* Routes a request. path is the raw URL path (percent-escapes intact,
 * query already gone); HEAD is routed as GET. Returns the route with
 * key set when the pattern has one, or NULL and *status: 404 no such
 * path, 405 other method (allow gets "GET, PUT"), 400 a key segment that
 * is not a key. */
const struct wm_api_route *wm_api_route_match(const char *method,
					      const char *path,
					      uint8_t key[32],
					      unsigned *status, char *allow,
					      size_t allow_cap);

/* GET /, the status page: served without a token (it holds no data). */
bool wm_api_route_public(const struct wm_api_route *rt);
/* GET /v1/events: a browser session cookie may stand for the token. */
bool wm_api_route_cookie(const struct wm_api_route *rt);

/* The view of a peer (path, RTT and, when cands, its candidates): what
 * the agent's ops say, else what the device allows. */
void wm_api_view(struct wm_api_ctx *api, const struct wm_peer *p,
		 struct wm_peer_view *v, bool cands);

/* Queues an event for every /v1/events stream and sets api->wake when a
 * stream is open. type: handshake, path_changed, peer_added, peer_removed
 * or relay_state. Takes the reference to data; NULL data is {}. */
void wm_api_ctx_event(struct wm_api_ctx *api, const char *type,
		      json_t *data);
/* The same with the standard data of a peer event: public_key, path,
 * path_mode, endpoint, last_handshake. */
void wm_api_ctx_peer_event(struct wm_api_ctx *api, const char *type,
			   const struct wm_peer *p);

#endif
