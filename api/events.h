/*
 * events.h - GET /v1/events: server-sent events (text/event-stream).
 *
 * Each event is one SSE record with a growing id:
 *
 *   id: 7
 *   event: path_changed
 *   data: {"public_key":"...","path":"relay","path_mode":"relay"}
 *
 * Types: handshake, path_changed, peer_added, peer_removed, relay_state.
 * Every stream has its own bounded queue (WM_EVENTS_QUEUE_BYTES, room
 * for a burst such as a PUT /v1/peers of thousands of peers). A client
 * that lets it fill up is too slow to follow and is dropped: its stream
 * ends with an error and it may reconnect (the record ids show the gap). While a queue is empty
 * the connection is suspended in libmicrohttpd (no busy polling); a
 * publish resumes it. A comment line every WM_EVENTS_KEEPALIVE_S (sent by
 * the caller through wm_events_keepalive) finds clients that went away.
 *
 * Everything here runs on the control thread, inside or between MHD_run()
 * calls; nothing is locked.
 */
#ifndef WM_API_EVENTS_H
#define WM_API_EVENTS_H

#include "api/mhd_compat.h"

#include <jansson.h>
#include <stdint.h>

enum {
	WM_EVENTS_MAX_CLIENTS = 16,
	WM_EVENTS_QUEUE_BYTES = 1 << 20,
	WM_EVENTS_KEEPALIVE_S = 15,
};

struct wm_events_client;

struct wm_events {
	struct wm_events_client *clients;
	unsigned n_clients;
	uint64_t next_id;
};

void wm_events_init(struct wm_events *h);
/* Answers c with a new stream (200), or 503 when WM_EVENTS_MAX_CLIENTS
 * streams are open. The stream lives until the client leaves, is
 * dropped, or wm_events_close_all. */
wm_mhd_result wm_events_start(struct wm_events *h, struct MHD_Connection *c);
/* One SSE record (see the top); malloc'd, NULL on ENOMEM. data NULL is {}. */
char *wm_events_format(uint64_t id, const char *type, const json_t *data);
/* Queues the event (data borrowed) for every stream. */
void wm_events_publish(struct wm_events *h, const char *type,
		       const json_t *data);
/* Queues an SSE comment line for every stream. */
void wm_events_keepalive(struct wm_events *h);
/* Ends every stream cleanly; they go away during the next MHD_run()s or
 * when the daemon stops. */
void wm_events_close_all(struct wm_events *h);

#endif
