/*
 * stun_client.h - learns this agent's reflexive addresses by asking every
 * configured STUN server, and the relay, from the agent's own UDP socket
 * (so the answer is the very mapping peers punch to), and classifies the
 * NAT's mapping: the same reflexive address seen by two servers on
 * different IPs means endpoint-independent; different ones,
 * endpoint-dependent (a symmetric NAT). A server that names a second port
 * in OTHER-ADDRESS (a wiremesh relay does) gets a second entry for that
 * port, so one such server is enough to tell the two apart. Only the port
 * is taken from OTHER-ADDRESS, never the IP: an unauthenticated answer
 * must not steer our requests to another host.
 *
 * Names are not resolved here: wm_stun_client_set_resolver() gives the
 * function that turns a server's text into an address without blocking
 * (the agent's background resolver); without one, only numeric addresses
 * work.
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
	int derived_from; /* the entry whose OTHER-ADDRESS this is; -1: none */
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
	/* text to address without blocking: 0, or <0 when not known (yet) */
	int (*resolve)(void *ctx, const char *text, union wm_sockaddr *out);
	void *resolve_ctx;
};

void wm_stun_client_init(struct wm_stun_client *sc);
/* Adds a server by "host:port" (the agent adds every STUN = line, then
 * the relay's UDP address). False when full or the text is too long. */
bool wm_stun_client_add(struct wm_stun_client *sc, const char *hostport);
/* Sets how server names become addresses (see above). */
void wm_stun_client_set_resolver(struct wm_stun_client *sc,
				 int (*resolve)(void *ctx, const char *text,
						union wm_sockaddr *out),
				 void *ctx);
/* The requests that are due (retries back off, answers refresh), at
 * most cap into out; returns the count. random fills transaction IDs
 * (0 or -errno). */
size_t wm_stun_client_tick(struct wm_stun_client *sc, uint64_t now_ns,
			   int (*random)(void *buf, size_t len),
			   struct wm_stun_request *out, size_t cap);
/* Every server is asked again at the next tick (`wiremesh netcheck`
 * wants fresh answers, not the last round's). */
void wm_stun_client_probe_now(struct wm_stun_client *sc, uint64_t now_ns);
/* Every server has answered at or after since_ns. */
bool wm_stun_client_answered_since(const struct wm_stun_client *sc,
				   uint64_t since_ns);
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
