/*
 * discovery.h - finding direct paths through NATs with disco messages
 * (disco.h): both sides probe at once, so both firewalls see an outbound
 * packet first (simultaneous open).
 *
 *   - While a peer has no proven direct path (and its mode allows one),
 *     every probe interval (WM_PROBE_MIN_S doubling to WM_PROBE_MAX_S) we
 *     send CALL_ME_MAYBE with our candidates through the relay and PING
 *     every candidate of theirs.
 *   - On CALL_ME_MAYBE we record their candidates and PING them at once.
 *   - On PING we answer PONG to where it came from, telling the sender
 *     the address we saw (and keep that address as a candidate).
 *   - The first authenticated PONG proves a path; the lowest-RTT proven
 *     candidate becomes the peer's endpoint.
 *   - While direct, a PING every WM_HEARTBEAT_S keeps the path proven;
 *     when PONGs stop, path.c falls back to the relay after
 *     WM_DIRECT_TRUST_S, and probing resumes with backoff.
 *   - A change of our own candidates (new address, new STUN mapping)
 *     restarts probing at once.
 */
#ifndef WM_DISCOVERY_H
#define WM_DISCOVERY_H

#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_device;
struct wm_peer;

enum { WM_PROBE_MIN_S = 2, WM_PROBE_MAX_S = 30, WM_HEARTBEAT_S = 2,
       WM_BAD_ENDPOINT_S = 60, WM_CMM_BURST = 3 };

/* Sets our candidates; probing restarts when they changed. */
void wm_discovery_set_local(struct wm_device *dev,
			    const union wm_sockaddr *cands, size_t n);
/* Adds a known endpoint of a peer (config, API, roaming) as a candidate. */
void wm_discovery_add_candidate(struct wm_peer *p, const union wm_sockaddr *a);
/* A disco message from src (NULL: it came through the relay). */
void wm_discovery_receive(struct wm_device *dev, const uint8_t *buf,
			  size_t len, const union wm_sockaddr *src);
/* Probes and heartbeats that are due. */
void wm_discovery_tick(struct wm_device *dev, uint64_t now_ns);
/* WireGuard got no answer over the direct path (a handshake retransmit or
 * the new-handshake timer fired while it was in use): stop trusting that
 * endpoint's pongs for WM_BAD_ENDPOINT_S, so the relay carries traffic. */
void wm_discovery_direct_failed(struct wm_peer *p, uint64_t now_ns);
/* Forget what was learnt (path mode changed). */
void wm_discovery_reset(struct wm_peer *p);

#endif
