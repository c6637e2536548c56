/*
 * tx_queue.h - datagrams sealed during one round of the loop, sent
 * together when the round ends (wm_txq_flush): runs to one endpoint leave
 * as one UDP_SEGMENT send, the rest through sendmmsg (udp.h). The data
 * path seals straight into the queue's arena, so nothing is copied.
 *
 * A full arena is flushed at once; nothing is ever dropped for space.
 * Owned by the control thread.
 */
#ifndef WM_TX_QUEUE_H
#define WM_TX_QUEUE_H

#include "agent/udp.h"

#include <stddef.h>
#include <stdint.h>

enum {
	WM_TXQ_ARENA = 128 * 1024,
	WM_TXQ_MAX = 128,            /* datagrams per flush at most */
	WM_TXQ_DATAGRAM_MAX = 16384, /* what wm_txq_reserve promises */
};

struct wm_tx_queue {
	struct wm_udp *udp;
	uint8_t *arena;
	size_t used;
	struct wm_udp_tx tx[WM_TXQ_MAX];
	size_t n;
};

/* 0 or -ENOMEM. */
int wm_txq_init(struct wm_tx_queue *q, struct wm_udp *udp);
void wm_txq_free(struct wm_tx_queue *q);

/* Room for one datagram of up to WM_TXQ_DATAGRAM_MAX bytes, valid until
 * wm_txq_commit or the next flush. */
uint8_t *wm_txq_reserve(struct wm_tx_queue *q);
/* The datagram of len bytes just written at the reserved room goes to. */
void wm_txq_commit(struct wm_tx_queue *q, const union wm_sockaddr *to,
		   size_t len);
/* Sends what is queued. Returns how many datagrams failed. */
size_t wm_txq_flush(struct wm_tx_queue *q);

#endif
