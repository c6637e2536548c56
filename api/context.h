/*
 * context.h - what the REST API's handlers (api/routes.c) are given. It
 * sits below both routes.c and server.c so that the calls run one way:
 * server.c owns the daemons, the sockets and the dispatch, and calls a
 * route's handler with the API's wm_api_ctx and the request; the handler
 * reads and changes the device through the context and queues the events
 * it raises in it (wm_api_ctx_event, api/routes.h), and server.c, seeing
 * ctx->wake after MHD_run(), runs libmicrohttpd again so the waiting
 * streams get them. Not for use outside api/.
 *
 * Everything here belongs to the control thread.
 */
#ifndef WM_API_CONTEXT_H
#define WM_API_CONTEXT_H

#include "agent/config.h"
#include "agent/device.h"
#include "api/browser.h"
#include "api/events.h"
#include "api/ops.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_api_route;

/* The API as its handlers see it. */
struct wm_api_ctx {
	struct wm_device *dev;        /* used in place (wm_api_open) */
	const struct wm_config *cfg;  /* likewise; a reload may change it */
	struct wm_api_ops ops;
	struct wm_events events;      /* the /v1/events streams */
	/* set_mode: the peer whose path_changed it waits for, and whether
	 * one was published meanwhile (another peer's does not count) */
	const struct wm_peer *mode_peer;
	bool mode_event_seen;
	bool wake;                    /* a stream got an event: run MHD */
	struct wm_api_request *waiting; /* suspended requests (below) */
	struct wm_browser_sessions sessions; /* the page's cookies */
};

/* One HTTP request, from its headers to its answer. */
struct wm_api_request {
	const struct wm_api_route *route;
	uint8_t key[32];
	char *body;
	size_t len, cap;
	bool done;      /* answered early: later calls only drain the body */
	bool too_large; /* over WM_JSON_BODY_MAX: draining, 413 at the end */
	size_t drained;

	/* A handler that answers later (POST .../ping) suspends the
	 * connection and puts the request on ctx->waiting with these set;
	 * server.c resumes it once ready() says so or at deadline_ns, then
	 * calls resume() to answer. cleanup() runs when the request ends,
	 * whichever way. */
	struct MHD_Connection *conn;
	struct wm_api_request *next_waiting;
	uint64_t deadline_ns;
	uint64_t since_ns; /* when the wait began */
	bool (*ready)(struct wm_api_ctx *api, struct wm_api_request *r);
	wm_mhd_result (*resume)(struct wm_api_ctx *api, struct MHD_Connection *c,
				struct wm_api_request *r);
	void (*cleanup)(struct wm_api_ctx *api, struct wm_api_request *r);
	void *state;
};

#endif
