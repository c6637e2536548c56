/*
 * server.h - the REST API (v1, JSON) of `wiremesh agent`: routes in
 * DESIGN.md ("REST API") and api/openapi.yaml.
 *
 * Transport. Always a unix socket (config `API =`, default
 * /run/wiremesh/<iface>.sock), made by netif/unix_listen.h: its directory
 * is created 0755 when missing; the path is never followed as a symlink
 * and a non-socket there is left alone (-EEXIST); a stale socket (connect
 * refused) is replaced, a live one fails with -EADDRINUSE. The socket is
 * mode 0660 with group `wiremesh` when that group exists, else 0600. Optionally a TCP listener
 * (`APIListen = ip:port`), loopback only unless `APIAllowRemote = true`,
 * where every request needs `Authorization: Bearer <token>` (the trimmed
 * contents of APITokenFile, compared in constant time).
 *
 * Threads. libmicrohttpd runs in its external epoll mode on the control
 * thread: each daemon's epoll fd is one handler in our wm_loop, and
 * MHD_run() is only ever called from there, so handlers read and change
 * the device directly with no locks and no snapshot. MHD's own deadlines
 * (idle connections, and MHD_get_timeout() == 0 when it has buffered work
 * its epoll fd will not signal again) are honoured by a timerfd re-armed
 * after every MHD_run() to what MHD_get_timeout() asks. A timerfd rather
 * than a loop tick: it follows MHD's exact deadline instead of adding up
 * to a tick of latency, and wm_api_close can remove it (ticks cannot be).
 * Limits: 64 connections, 10 s idle timeout, 64 KiB request bodies (413),
 * 16 event streams.
 *
 * What the device cannot tell (a peer's path and RTT, reflexive addresses,
 * the relay) comes from the agent through struct wm_api_ops (api/ops.h).
 *
 * Inside, server.c owns the daemons, the socket files and the dispatch; it
 * calls the route table (api/routes.h) with a struct wm_api_ctx
 * (api/context.h), and nothing in routes.c calls back up here.
 */
#ifndef WM_API_SERVER_H
#define WM_API_SERVER_H

#include "agent/config.h"
#include "agent/device.h"
#include "agent/loop.h"
#include "api/ops.h"

#include <jansson.h>

enum {
	WM_API_MAX_CONNECTIONS = 64,
	WM_API_TIMEOUT_S = 10,
	WM_API_TOKEN_MAX = 512, /* bytes of bearer token */
};

struct wm_api;

/* Opens the listeners of cfg (api_socket, api_listen, api_token_file)
 * and joins them to loop. dev and cfg are used in place, not copied: they
 * must outlive the API (a reload may change *cfg's contents). ops is
 * copied; NULL means all defaults. Errors are printed to stderr with the
 * path or address concerned. Returns 0 or -errno (-EADDRINUSE: another
 * agent serves the socket; -EEXIST: a non-socket is in the way; -EACCES:
 * no readable token file for APIListen). */
int wm_api_open(struct wm_api **out, struct wm_loop *loop,
		struct wm_device *dev, const struct wm_config *cfg,
		const struct wm_api_ops *ops);
/* Ends event streams, stops the daemons, removes our socket file, frees
 * api. Not from inside an API callback (ops); after wm_loop_run returns
 * is the usual place. NULL is a no-op. */
void wm_api_close(struct wm_api *api);

/* Sends an event to every /v1/events stream. type: handshake,
 * path_changed, peer_added, peer_removed or relay_state. Takes the
 * reference to data (so json_pack(...) can be passed straight in); NULL
 * data is {}. api NULL is a no-op. */
void wm_api_event(struct wm_api *api, const char *type, json_t *data);
/* The same with the standard data of a peer event: public_key, path,
 * path_mode, endpoint, last_handshake. */
void wm_api_peer_event(struct wm_api *api, const char *type,
		       const struct wm_peer *p);

#endif
