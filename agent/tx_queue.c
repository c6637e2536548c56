/* See tx_queue.h. */
#include "agent/tx_queue.h"

#include <errno.h>
#include <stdlib.h>

int wm_txq_init(struct wm_tx_queue *q, struct wm_udp *udp)
{
	q->udp = udp;
	q->used = q->n = 0;
	q->arena = malloc(WM_TXQ_ARENA);
	return q->arena ? 0 : -ENOMEM;
}

void wm_txq_free(struct wm_tx_queue *q)
{
	free(q->arena);
	q->arena = NULL;
	q->n = q->used = 0;
}

uint8_t *wm_txq_reserve(struct wm_tx_queue *q)
{
	if (q->n == WM_TXQ_MAX || WM_TXQ_ARENA - q->used < WM_TXQ_DATAGRAM_MAX)
		wm_txq_flush(q);
	return q->arena + q->used;
}

void wm_txq_commit(struct wm_tx_queue *q, const union wm_sockaddr *to,
		   size_t len)
{
	struct wm_udp_tx *t = &q->tx[q->n++];

	t->to = *to;
	t->from.sa.sa_family = AF_UNSPEC;
	t->buf = q->arena + q->used;
	t->len = len;
	/* Keep datagrams 16-byte aligned; equal ones stay contiguous. */
	q->used += (len + 15) & ~(size_t)15;
}

size_t wm_txq_flush(struct wm_tx_queue *q)
{
	size_t failed = 0;

	if (q->n)
		failed = wm_udp_send_batch(q->udp, q->tx, q->n);
	q->n = q->used = 0;
	return failed;
}
