/*
 * tun_writer.h - decrypted packets on their way into the TUN. On a TUN
 * with a virtio header (netif/tun.h, offloads on) packets are collected
 * during one receive batch and written when the batch ends
 * (wm_tun_writer_flush), in-order TCP segments of a flow from one peer
 * coalesced into super-packets (netif/gro.h), one write() each. On a plain
 * TUN each packet is written at once, as it comes.
 *
 * Whoever runs a receive batch (agent.c: on_udp, drain_relay) flushes at
 * its end; receive.c only adds, after its cryptokey-routing check. All of
 * it belongs to the loop thread. Memory is taken once, at init.
 */
#ifndef WM_TUN_WRITER_H
#define WM_TUN_WRITER_H

#include "netif/gro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_tun_writer {
	int fd;
	bool vnet;      /* every write starts with a virtio header */
	uint8_t *arena; /* WM_GRO_ARENA bytes when vnet */
	struct wm_gro gro;
};

/* Sets w up to write to fd (not owned), with a virtio header in front of
 * each write when vnet. Returns 0 or -ENOMEM. */
int wm_tun_writer_init(struct wm_tun_writer *w, int fd, bool vnet);
void wm_tun_writer_free(struct wm_tun_writer *w);

/* One IP packet of len bytes (its IP length) from owner (the peer): held
 * until the flush, or written now on a plain TUN or when the batch is
 * full. pkt may be reused once this returns. Returns the number of
 * write()s that failed. */
unsigned wm_tun_writer_add(struct wm_tun_writer *w, const void *owner,
			   const uint8_t *pkt, size_t len);

/* Writes everything held, in order. Returns the number of failed
 * write()s. */
unsigned wm_tun_writer_flush(struct wm_tun_writer *w);

#endif
