/*
 * peer_ping.h - `wiremesh ping` (POST /v1/peers/{key}/ping): one disco
 * PING to each of a peer's candidate addresses (its endpoint first) and
 * one through the relay, each with a txid of its own, and the PONGs that
 * answer them timed, as `tailscale ping` does. A probe set lives as long
 * as the API request that asked for it: registered in the device while
 * it waits (so the disco receive path can match PONGs to it), removed
 * when the request ends, whichever way. Discovery's own state is not
 * touched: these PONGs answer txids it never sent.
 */
#ifndef WM_PEER_PING_H
#define WM_PEER_PING_H

#include "agent/nat/disco.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_device;
struct wm_peer;

enum { WM_PING_MAX_TARGETS = WM_DISCO_MAX_CANDIDATES + 2 };

/* One PING and its answer. */
struct wm_ping_target {
	bool relay;               /* sent through the peer's relay */
	int relay_index;          /* which (agent/relays.h) */
	union wm_sockaddr to;     /* where it went (AF_UNSPEC: relay) */
	bool current;             /* the path the peer is shown on */
	uint8_t txid[WM_DISCO_TXID];
	bool sent;
	uint64_t sent_ns, rtt_ns; /* rtt_ns 0: no answer (yet) */
	union wm_sockaddr from;   /* where the PONG came from */
};

struct wm_ping_set {
	struct wm_ping_set *next; /* the device's registered sets */
	uint8_t key[32];          /* the peer's */
	struct wm_ping_target t[WM_PING_MAX_TARGETS];
	size_t n;
	uint64_t started_ns;
};

/* Sends the PINGs of a new round to p and registers s (filled here).
 * Returns how many targets it has (0: nowhere to send; s is then not
 * registered); a PING that could not be sent has t->sent false. */
size_t wm_peer_ping_start(struct wm_device *dev, struct wm_peer *p,
			  struct wm_ping_set *s, uint64_t now_ns);
/* Unregisters s (its request ended). Unknown sets are ignored. */
void wm_peer_ping_stop(struct wm_device *dev, struct wm_ping_set *s);
/* True when every PING of s was answered. */
bool wm_peer_ping_done(const struct wm_ping_set *s);
/* An authenticated PONG from p (src NULL: through the relay): true when it
 * answered a registered PING (then timed and taken). */
bool wm_peer_ping_pong(struct wm_device *dev, const struct wm_peer *p,
		       const struct wm_disco_msg *pong,
		       const union wm_sockaddr *src, uint64_t now_ns);

#endif
