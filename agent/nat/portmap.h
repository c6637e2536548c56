/*
 * portmap.h - a mapping of the agent's UDP port on the gateway, asked for
 * with NAT-PMP (libnatpmp) and, where that gets no answer, UPnP IGD
 * (libminiupnpc). The mapped address is one more candidate for peers: a
 * host behind a symmetric NAT whose router grants mappings is then as easy
 * to reach as one behind a cone NAT. (PCP: Debian has no maintained
 * client library; a NAT-PMP request is what PCP servers answer too.)
 *
 * Both libraries block (NAT-PMP retries for up to a minute, UPnP does SSDP
 * discovery and HTTP), so the one exception in nat/ to "no I/O": a worker
 * thread asks, renews at half the lifetime, re-asks when the port changes,
 * retries a gateway that said nothing every WM_PORTMAP_RETRY_S, and deletes
 * the mapping on free. The loop reads the result (wm_portmap_get) when the
 * eventfd says it changed. Every exchange is bounded: WM_PORTMAP_WAIT_MS
 * per NAT-PMP answer, WM_PORTMAP_DISCOVER_MS per UPnP discovery; a stop
 * cuts an attempt short at its next look, so the agent stops promptly.
 */
#ifndef WM_PORTMAP_H
#define WM_PORTMAP_H

#include "netif/addr.h"

#include <stdbool.h>
#include <stdint.h>

enum {
	WM_PORTMAP_LIFETIME_S = 7200,
	WM_PORTMAP_RETRY_S = 300,
	WM_PORTMAP_WAIT_MS = 1500,
	WM_PORTMAP_DISCOVER_MS = 1000,
};

enum wm_portmap_method {
	WM_PORTMAP_NONE = 0,
	WM_PORTMAP_NATPMP,
	WM_PORTMAP_UPNP,
};

struct wm_portmap_state {
	enum wm_portmap_method method; /* NONE: no mapping (yet) */
	union wm_sockaddr external;    /* the gateway's address and port */
	unsigned lifetime_s;           /* granted */
	unsigned attempts;             /* rounds of asking so far */
};

struct wm_portmap;

/* Starts asking for a mapping of UDP port. The worker first calls
 * thread_setup (NULL: none), the agent's way to leave it no capability:
 * it parses what the gateway sends. 0 or -errno. */
int wm_portmap_new(struct wm_portmap **out, uint16_t port,
		   int (*thread_setup)(void));
/* Deletes the mapping (bounded by the waits above) and stops. */
void wm_portmap_free(struct wm_portmap *pm);
/* The port moved (wg set listen-port): map the new one. */
void wm_portmap_set_port(struct wm_portmap *pm, uint16_t port);
void wm_portmap_get(struct wm_portmap *pm, struct wm_portmap_state *out);
/* Readable when the state changed; wm_portmap_drain() clears it. */
int wm_portmap_fd(const struct wm_portmap *pm);
void wm_portmap_drain(struct wm_portmap *pm);
const char *wm_portmap_method_name(enum wm_portmap_method m);

#endif
