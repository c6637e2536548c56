/*
 * server_impl.h - what server.c and routes.c share: the API's state and
 * the per-request context. Not for use outside api/.
 */
#ifndef WM_API_SERVER_IMPL_H
#define WM_API_SERVER_IMPL_H

#include "api/events.h"
#include "api/mhd_compat.h"
#include "api/peer_json.h"
#include "api/server.h"
#include "netif/unix_listen.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct wm_api_listener {
	struct wm_loop_handler h; /* MHD's epoll fd in our loop */
	struct MHD_Daemon *d;
	struct wm_api *api;
	bool tcp;                 /* the bearer token is required */
	bool in_loop;
};

/* All of it belongs to the control thread. */
struct wm_api {
	struct wm_loop *loop;
	struct wm_device *dev;
	const struct wm_config *cfg;
	struct wm_api_ops ops;
	struct wm_api_listener unix_l, tcp_l;

	int timer_fd;
	struct wm_loop_handler timer_h;
	bool timer_in_loop;
	uint64_t next_keepalive_ns;

	char sock_path[WM_API_SOCKET_MAX];
	struct wm_unix_sock sock; /* to unlink only the socket we made */

	char token[WM_API_TOKEN_MAX];
	size_t token_len;

	bool started; /* wm_api_open succeeded */
	struct wm_events events;
	unsigned path_events; /* path_changed events sent so far */
};

struct wm_api_request {
	const struct wm_api_route *route;
	uint8_t key[32];
	char *body;
	size_t len, cap;
	bool done;      /* answered early: later calls only drain the body */
	bool too_large; /* over WM_JSON_BODY_MAX: draining, 413 at the end */
	size_t drained;
};

/* The view of a peer (path, RTT and, when cands, its candidates). */
void wm_api_view(struct wm_api *api, const struct wm_peer *p,
		 struct wm_peer_view *v, bool cands);

#endif
