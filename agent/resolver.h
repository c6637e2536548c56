/*
 * resolver.h - host names resolved off the control thread.
 *
 * getaddrinfo() blocks for as long as the system's resolver takes: seconds
 * per attempt when a name server is dead. The loop must never wait for it
 * (the tunnel, the REST API and the wg UAPI share that thread), so names
 * go to one worker thread and the loop only ever reads answers already
 * in hand:
 *
 *     wm_resolver_get(r, "relay.example.net:3478", &addr, now)
 *         0        addr is the last good answer (maybe refreshing behind)
 *         -EAGAIN  no answer yet: asked, try again later
 *         -ENOENT  the last lookup failed (retried after WM_RESOLVER_RETRY_S)
 *
 * Numeric addresses are parsed at once, without the thread. A good answer
 * is kept, and used, until a newer good one replaces it: a failing or
 * silent resolver never takes away an address that worked. Answers are
 * refreshed every WM_RESOLVER_REFRESH_S, so a name that moves is followed.
 * The worker writes an eventfd when an answer lands (wm_resolver_fd), so
 * the loop can retry at once instead of at its next tick.
 *
 * The table holds WM_RESOLVER_MAX names (relays, STUN servers, peer
 * endpoints). A name not asked for in WM_RESOLVER_IDLE_S gives its slot
 * to a new one when the table is full (the longest idle first); with
 * none idle, -ENOSPC. One mutex guards it; the loop holds it
 * only to copy an entry, never across a lookup.
 */
#ifndef WM_RESOLVER_H
#define WM_RESOLVER_H

#include "netif/addr.h"

#include <stdint.h>

enum {
	WM_RESOLVER_MAX = 64,
	WM_RESOLVER_REFRESH_S = 60,
	WM_RESOLVER_RETRY_S = 5,
	WM_RESOLVER_IDLE_S = 3 * WM_RESOLVER_REFRESH_S,
};

struct wm_resolver;

/* 0, or -errno (thread, eventfd or memory). lookup is the blocking
 * function the worker calls (NULL: wm_sockaddr_resolve); tests pass one
 * that never returns, as a dead name server would. */
int wm_resolver_new(struct wm_resolver **out,
		    int (*lookup)(union wm_sockaddr *out, const char *text));
/* Stops the worker. One blocked in a lookup is left to finish on its own
 * and frees what it shares with us then: free never waits for DNS. */
void wm_resolver_free(struct wm_resolver *r);

/* See above. now_ns is a monotonic clock. */
int wm_resolver_get(struct wm_resolver *r, const char *text,
		    union wm_sockaddr *out, uint64_t now_ns);
/* Readable when answers landed; wm_resolver_drain() clears it. */
int wm_resolver_fd(const struct wm_resolver *r);
void wm_resolver_drain(struct wm_resolver *r);

/* Lookups the worker has finished, good and failed (for tests, metrics). */
uint64_t wm_resolver_answers(struct wm_resolver *r);

#endif
