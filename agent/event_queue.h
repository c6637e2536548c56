/*
 * event_queue.h - what happened to peers, queued where it happens (the
 * receive path, path decisions) and delivered from the loop's tick to the
 * log and the REST API's event stream, so the data path never calls
 * toward the API.
 *
 * Events name peers by public key: a peer removed before delivery is
 * simply skipped. A full queue drops the newest and counts it.
 */
#ifndef WM_EVENT_QUEUE_H
#define WM_EVENT_QUEUE_H

#include "agent/nat/path.h"
#include "agent/wg/messages.h"

#include <stdbool.h>
#include <stdint.h>

enum wm_event_type {
	WM_EVENT_HANDSHAKE = 1, /* a handshake with the peer completed */
	WM_EVENT_PATH,          /* the peer's path changed (old_via -> via) */
};

struct wm_event {
	enum wm_event_type type;
	uint8_t key[WM_KEY_SIZE];
	enum wm_via old_via, via;
};

/* A relay going up or down re-decides every peer's path at once. */
enum { WM_EVENT_QUEUE_LEN = 2048 };

struct wm_event_queue {
	struct wm_event ring[WM_EVENT_QUEUE_LEN];
	unsigned head, len;
	uint64_t dropped;
};

void wm_event_push(struct wm_event_queue *q, const struct wm_event *e);
/* The oldest event; false when none. */
bool wm_event_pop(struct wm_event_queue *q, struct wm_event *out);

#endif
