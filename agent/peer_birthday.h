/*
 * peer_birthday.h - the agent's side of birthday probing (nat/birthday.h):
 * the hard side's extra UDP sockets (opened for an attempt, one kept per
 * peer whose probe it won, the rest closed), read on the loop through the
 * normal receive demux; the easy side's probes; the log and counters.
 *
 * The one exception to "one socket per agent" (DESIGN.md): a peer whose
 * direct path a birthday socket won is sent to from that socket
 * (p->direct_fd, read by send.c) for as long as that path lives; a
 * minute without it, the socket closes and the peer is back on the
 * ListenPort.
 */
#ifndef WM_PEER_BIRTHDAY_H
#define WM_PEER_BIRTHDAY_H

#include "agent/device.h"
#include "agent/loop.h"
#include "agent/nat/birthday.h"

#include <stdbool.h>
#include <stdint.h>

enum { WM_BDAY_KEPT_MAX = 64, WM_BDAY_KEPT_LOST_S = 60 };

struct wm_peer_birthday;

/* One socket of ours: its loop handler (ctx: the owner), family, and for
 * a kept one, its peer and since when its path is not proven. */
struct wm_bday_sock {
	struct wm_loop_handler h;
	int family;
	uint8_t key[32];
	uint64_t lost_since;
};

struct wm_peer_birthday {
	struct wm_device *dev;
	struct wm_loop *loop;
	uint8_t *buf;               /* one datagram */
	int told_mapping;           /* our NAT mapping peers were last told */
	bool active;                /* a hard-side attempt holds probe[] */
	uint8_t key[32];            /* its peer */
	uint64_t until_ns;          /* its window's end */
	struct wm_bday_sock probe[WM_BDAY_SOCKETS];
	size_t n_probe;
	struct wm_bday_sock kept[WM_BDAY_KEPT_MAX]; /* h.fd -1: free */
};

/* 0 or -ENOMEM. */
int wm_peer_birthday_init(struct wm_peer_birthday *pb, struct wm_device *dev,
			  struct wm_loop *loop);
/* Closes every socket. */
void wm_peer_birthday_free(struct wm_peer_birthday *pb);
/* FwMark changed (`wg set`): every open socket takes the new mark, as the
 * ListenPort socket does. 0, or the first -errno (the rest still tried). */
int wm_peer_birthday_set_mark(struct wm_peer_birthday *pb, uint32_t mark);
/* Attempts that are due or over, the easy side's probes, sockets whose
 * peer or path is gone. Every loop tick. */
void wm_peer_birthday_tick(struct wm_peer_birthday *pb, uint64_t now_ns);

#endif
