/* See event_queue.h. */
#include "agent/event_queue.h"

void wm_event_push(struct wm_event_queue *q, const struct wm_event *e)
{
	if (q->len == WM_EVENT_QUEUE_LEN) {
		q->dropped++;
		return;
	}
	q->ring[(q->head + q->len) % WM_EVENT_QUEUE_LEN] = *e;
	q->len++;
}

bool wm_event_pop(struct wm_event_queue *q, struct wm_event *out)
{
	if (q->len == 0)
		return false;
	*out = q->ring[q->head];
	q->head = (q->head + 1) % WM_EVENT_QUEUE_LEN;
	q->len--;
	return true;
}
