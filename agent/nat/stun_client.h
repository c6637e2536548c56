/*
 * stun_client.h - learns this agent's reflexive addresses by asking every
 * configured STUN server, and the relay, from the agent's own UDP socket
 * (so the answer is the very mapping peers punch to), and classifies the
 * NAT's mapping: the same reflexive address seen by two servers on
 * different IPs means endpoint-independent; different ones,
 * endpoint-dependent (a symmetric NAT).
 *
 * It owns no socket: wm_stun_client_tick() returns the requests that are
 * due and the agent sends them from its UDP socket.
 */
#ifndef WM_STUN_CLIENT_H
#define WM_STUN_CLIENT_H

#include "agent/nat/stun.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stdint.h>

enum { WM_STUN_SERVER_TEXT = 256, WM_STUN_MAX_SERVERS = 8, WM_STUN_REFRESH_S = 25, WM_STUN_BACKOFF_MAX_S = 30 };

enum wm_nat_mapping {
	WM_NAT_UNKNOWN = 0,
	WM_NAT_ENDPOINT_INDEPENDENT,
	WM_NAT_ENDPOINT_DEPENDENT,
};

struct wm_stun_server {
	char text[WM_STUN_SERVER_TEXT];
	union wm_sockaddr addr;
	uint8_t txid[WM_STUN_TXID_LEN];
	uint64_t sent_ns, answered_ns, next_ns;
	uint64_t rtt_ns; /* of the last answer (netcheck's latency) */
	unsigned backoff_s;
	union wm_sockaddr mapped;
};

/* A Binding request to send. */
struct wm_stun_request {
	union wm_sockaddr to;
	uint8_t msg[WM_STUN_REQUEST_LEN];
};

struct wm_stun_client {
	struct wm_stun_server servers[WM_STUN_MAX_SERVERS];
	size_t n;
	unsigned generation; /* bumps when the reflexive set changes */
	uint64_t rx, rx_bad;
};

void wm_stun_client_init(struct wm_stun_client *sc);
/* Adds a server by "host:port" (the agent adds every STUN = line, then
 * the relay's UDP address). False when full or the text is too long. */
bool wm_stun_client_add(struct wm_stun_client *sc, const char *hostport);
/* The requests that are due (retries back off, answers refresh), at
 * most cap into out; returns the count. random fills transaction IDs
 * (0 or -errno). */
size_t wm_stun_client_tick(struct wm_stun_client *sc, uint64_t now_ns,
			   int (*random)(void *buf, size_t len),
			   struct wm_stun_request *out, size_t cap);
/* A STUN datagram arrived from src. */
void wm_stun_client_receive(struct wm_stun_client *sc, const uint8_t *buf,
			    size_t len, const union wm_sockaddr *src,
			    uint64_t now_ns);
/* Distinct reflexive addresses seen recently; returns the count. */
size_t wm_stun_client_reflexive(const struct wm_stun_client *sc,
				union wm_sockaddr *out, size_t cap,
				uint64_t now_ns);
enum wm_nat_mapping wm_stun_client_mapping(const struct wm_stun_client *sc,
					   uint64_t now_ns);
const char *wm_nat_mapping_name(enum wm_nat_mapping m);

#endif
