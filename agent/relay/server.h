/*
 * server.h - `wiremesh relay`: the relay and STUN server of a fleet
 * (DESIGN.md "Relay"; the wire format is relay/proto.h's).
 *
 * The core, struct wm_relay, is pure: a datagram comes in with the path it
 * arrived on and the time, answers leave through the caller's send
 * callback, randomness comes from a callback. It owns no socket and reads
 * no clock, so tests drive it with fake clients. relay/cmd.c puts it on a
 * UDP socket, relay/server_tcp.c on TCP and TLS connections.
 *
 * What the core does with a datagram:
 *   STUN Binding request (UDP only)  answered with the source address,
 *                                    within a budget per source address
 *                                    (IPv4, IPv6 /64: 20 answers a second,
 *                                    bursts of 40): an answer is 3-4 times
 *                                    the request, so a spoofed source
 *                                    must not make the relay an amplifier
 *   "WMR\x01" + initiation           mac1 checked first (a hash: no
 *                                    randomness, no DH); under load (more
 *                                    than 256 a second) a cookie reply
 *                                    without a valid mac2, and with one a
 *                                    budget per source address (5 a
 *                                    second, wg/ratelimit.h), on every
 *                                    transport; then Noise IK with the
 *                                    relay as responder, where the
 *                                    allow-list is checked as soon as the
 *                                    sender's key is decrypted (one DH);
 *                                    keys off it get no answer at all
 *   "WMR\x01" + transport data       opened (replay window), then
 *       SEND K   passed to K's session as RECV (key = sender), the body
 *                untouched; GONE K back when K is offline or unknown
 *       PING     PONG with the same body (9 bytes: the client reads
 *                forwarding frames, and the PONG says we do; proto.h)
 *       empty    a keepalive
 *   "WMR\x02" SEND (relay/fwd.h)     tag checked (one Poly1305 pass, no
 *                                    decryption), replay window, then as
 *                                    a sealed SEND
 *     a RECV goes to K as a forwarding frame (its tag over the header
 *     and the body's own WireGuard tag) when K's current session offered
 *     them, else sealed: a client of either version is served
 *     of an unknown receiver index: counted bad_auth, and answered with
 *       "unknown session" (proto.h; 12 bytes, only on the path it came
 *       from) at most once a second per source address or connection
 *       and 64 times a second in all, so a client of a relay that
 *       restarted handshakes again at once
 *
 * A handshake leaves a "next" session that the client's first transport
 * message confirms; only then is the client a destination, and only
 * then does a client with a working session move to the path it came
 * from. Sessions are
 * the agent's type (wg/session.h), found by receiver index in the
 * agent's table (wg/index.h, of fixed size here), and unpadded on both
 * sides (sealed with mtu = length): a frame's body is exactly the bytes
 * that follow its key. A client must complete a new handshake before its
 * session is REJECT_AFTER_TIME (180 s) old, and is forgotten after 180 s
 * without an authenticated packet.
 *
 * Each client's frames are charged to a token bucket of ClientRate bytes/s
 * (burst: a quarter second, at least 64 KiB); frames past it are dropped
 * and counted, other clients are unaffected. Memory is allocated once, at
 * wm_relay_new (at most min(MaxClients, allow-list) client slots, and an
 * index table for three sessions each): nothing per packet or handshake.
 */
#ifndef WM_RELAY_SERVER_H
#define WM_RELAY_SERVER_H

#include "agent/wg/messages.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wm_relay_transport { WM_RELAY_UDP, WM_RELAY_TCP, WM_RELAY_TLS };

/* The highest ClientRate (bytes/s, 80 Gbit/s): buckets count
 * byte-nanoseconds, and a second's refill at this rate still fits in 64
 * bits. */
#define WM_RELAY_MAX_CLIENT_RATE 10000000000ULL
enum { WM_RELAY_TRANSPORTS = 3 };

/* Where a datagram came from, and how to answer it. */
struct wm_relay_path {
	enum wm_relay_transport transport;
	uint32_t conn;          /* connection id (TCP, TLS); 0 for UDP */
	union wm_sockaddr addr; /* the remote address (IPv4 unmapped) */
	/* UDP: the local address it was sent to, so that answers leave
	 * from it on a host with several (port unused; AF_UNSPEC: any) */
	union wm_sockaddr local;
	/* UDP: came to (answers leave from) the second STUN port, which
	 * carries nothing but STUN */
	bool alt_port;
};

/* Why a datagram or frame was dropped. */
enum wm_relay_drop {
	WM_RELAY_DROP_NOT_ALLOWED,  /* handshake from a key off the list */
	WM_RELAY_DROP_DST_UNKNOWN,  /* SEND to a key off the list (GONE) */
	WM_RELAY_DROP_DST_OFFLINE,  /* SEND to a key not connected (GONE) */
	WM_RELAY_DROP_RATE_LIMITED, /* over ClientRate, or handshake flood */
	WM_RELAY_DROP_MALFORMED,    /* not STUN, not relay, bad frame */
	WM_RELAY_DROP_BAD_AUTH,     /* mac1, AEAD, unknown index, expired */
	WM_RELAY_DROP_REPLAY,       /* counter or timestamp seen before */
	WM_RELAY_DROP_FULL,         /* MaxClients reached */
	WM_RELAY_DROP_SEND_FAILED,  /* the destination transport refused it */
	WM_RELAY_DROP_HANDSHAKE_LIMITED, /* under load, over its source's budget */
	WM_RELAY_DROP_STUN_LIMITED, /* a STUN answer over its source's budget */
	WM_RELAY_DROP_MAX
};

struct wm_relay_counters {
	uint64_t clients[WM_RELAY_TRANSPORTS]; /* connected now, by transport */
	uint64_t handshakes;       /* answered initiations */
	uint64_t cookie_replies;
	uint64_t stun_requests;    /* answered Binding requests */
	uint64_t frames_forwarded; /* RECV frames sent */
	uint64_t bytes_forwarded;  /* their bodies */
	uint64_t gone_sent;
	uint64_t unknown_session_sent; /* "unknown session" answers */
	uint64_t pings;
	uint64_t drops[WM_RELAY_DROP_MAX];
};

struct wm_relay_ops {
	/* Sends one datagram on path; buf is only valid during the call.
	 * 0, or -errno when the path is gone or full. */
	int (*send)(void *ctx, const struct wm_relay_path *to,
		    const uint8_t *buf, size_t len);
	/* Fills buf with len random bytes; 0 or -errno. */
	int (*random)(void *ctx, void *buf, size_t len);
	/* One line for the operator, without newline; NULL: silent. The
	 * core limits how often a remote party can make it log. */
	void (*log)(void *ctx, const char *line);
	void *ctx;
};

struct wm_relay_params {
	const uint8_t *private_key;           /* 32 bytes */
	const uint8_t (*allowed)[WM_KEY_SIZE]; /* public keys, any order */
	size_t n_allowed;
	/* bytes/s per client; 0: no limit; more than
	 * WM_RELAY_MAX_CLIENT_RATE counts as that much */
	uint64_t client_rate;
	uint32_t max_clients;                 /* 0: as many as allowed */
	uint16_t stun_port, stun_alt_port;    /* for OTHER-ADDRESS; 0: none */
};

struct wm_relay;

/* Allocates a relay for these keys (copied). 0, -EINVAL (no key) or
 * -ENOMEM. */
int wm_relay_new(struct wm_relay **out, const struct wm_relay_params *p,
		 const struct wm_relay_ops *ops);
/* Wipes every key and frees; NULL is fine. */
void wm_relay_free(struct wm_relay *r);

/* Applies a new allow-list, ClientRate and MaxClients (SIGHUP) from p
 * (its private_key and STUN ports are ignored: the relay's identity
 * and sockets stay): clients still
 * allowed keep their sessions, clients no longer allowed are dropped
 * (and logged). 0, or -ENOMEM with the relay unchanged. */
int wm_relay_reload(struct wm_relay *r, const struct wm_relay_params *p);

/* Handles one datagram (STUN or relay; over TCP, one length-prefixed
 * record without its prefix). buf is modified in place: replies are
 * sealed where the request was. now_ns is a monotonic clock. */
void wm_relay_input(struct wm_relay *r, const struct wm_relay_path *from,
		    uint8_t *buf, size_t len, uint64_t now_ns);

/* Forgets idle clients and expired sessions; call about once a second. */
void wm_relay_tick(struct wm_relay *r, uint64_t now_ns);

/* A TCP or TLS connection closed: clients last seen on it are offline. */
void wm_relay_conn_closed(struct wm_relay *r, uint32_t conn);

/* Calls fn(ctx, conn, at_ns) for each client whose path is a TCP or TLS
 * connection, with when the last authenticated message came from it (an
 * answered initiation, or a transport message that opened): how
 * relay/server_tcp.c tells a client's connection from one sending junk. */
void wm_relay_conn_activity(const struct wm_relay *r,
			    void (*fn)(void *ctx, uint32_t conn, uint64_t at_ns),
			    void *ctx);

/* A snapshot of the counters (the client gauges are counted now). */
void wm_relay_get_counters(const struct wm_relay *r,
			   struct wm_relay_counters *out);
/* "not_allowed", "dst_offline", ... (the metric label). */
const char *wm_relay_drop_name(enum wm_relay_drop d);
/* "udp", "tcp", "tls". */
const char *wm_relay_transport_name(enum wm_relay_transport t);
/* The relay's public key (what clients put in RelayPublicKey). */
void wm_relay_public_key(const struct wm_relay *r, uint8_t out[WM_KEY_SIZE]);

/* `wiremesh relay --config FILE [--check-config]`: 0 after a clean
 * shutdown (SIGTERM, SIGINT), 1 on a runtime failure, 2 on a usage or
 * config error. SIGUSR1 prints the counters to stderr. */
int wm_cmd_relay(int argc, char **argv);

#endif
