/*
 * server_tcp.h - the relay's TCP fallback (TCPListen): one port serves
 * TLS (TLSCert/TLSKey) and plain framing alike, told apart by a
 * connection's first byte (a TLS record starts with 0x16); without a
 * certificate a TLS ClientHello is closed at once, so a client that
 * tries TLS first falls back to plain without waiting. Accepts
 * non-blocking connections up to a cap (and a cap per source: an IPv4
 * address, or an IPv6 /64); with the table full, a newcomer takes the
 * place of the oldest connection not yet authenticated (never of an
 * authenticated one), and is refused only when there is none. Cuts the
 * stream into 2-byte big-endian length-prefixed relay datagrams and hands
 * each to the relay core, and queues the core's answers on the
 * connection they are for.
 *
 * A ClientHello costs the relay a private-key operation, so each source
 * (IPv4 address, IPv6 /64) may start 5 TLS sessions a second, in bursts
 * of 8 (wg/ratelimit.h); a connection past that is closed before any
 * TLS work, and counted.
 *
 * A connection is closed when its peer closes, on a bad length prefix, a
 * TLS or socket error, when it has not completed a relay handshake
 * within the handshake timeout of accept (or sent an authenticated
 * record within the idle timeout of the last one: the core says which
 * records were authentic, wm_relay_conn_activity, so junk of a valid
 * length keeps nothing open), and at shutdown; the core hears of each
 * close (wm_relay_conn_closed). A datagram that does not fit the
 * connection's send queue is dropped, as UDP would. Connection ids carry
 * a generation, so an answer meant for a closed connection never reaches
 * its slot's next occupant. Buffers are allocated per connection, at
 * accept.
 *
 * A send to a TLS connection pumps its engine, which may take the
 * client's next records off the socket; a connection left holding
 * decrypted bytes that way is served again through an eventfd, since no
 * socket event will announce them.
 */
#ifndef WM_RELAY_TCP_H
#define WM_RELAY_TCP_H

#include "agent/loop.h"
#include "agent/relay/server.h"
#include "agent/relay/tls.h"

#include <stddef.h>
#include <stdint.h>

struct wm_relay_tcp;

struct wm_relay_tcp_stats {
	uint64_t accepted, refused_full, closed_errors;
	uint64_t refused_per_address; /* over the cap for one address */
	uint64_t tls_refused;         /* a ClientHello with no certificate */
	uint64_t tls_rate_limited;    /* over its source's TLS budget */
	uint64_t handshake_timeouts;  /* no relay handshake in time */
	uint64_t idle_timeouts;       /* no authenticated record in time */
	uint64_t evicted; /* unauthenticated, closed to make room when full */
	uint64_t open; /* connections now */
};

struct wm_relay_tcp_limits {
	unsigned max_conns;    /* open connections in all */
	/* open connections from one IPv4 address or IPv6 /64; 0: no cap */
	unsigned per_address;
	uint64_t handshake_ns; /* from accept to an authenticated record */
	uint64_t idle_ns;      /* from one authenticated record to the next */
};

/* Listens on listen ("ip:port", numeric) and serves connections through
 * relay. creds NULL: plain only (TLS ClientHellos are closed); the
 * caller keeps its reference, which must outlive t or be replaced by
 * wm_relay_tcp_set_creds first. 0, or -errno with a message in err. */
int wm_relay_tcp_open(struct wm_relay_tcp **out, struct wm_loop *loop,
		      struct wm_relay *relay, const char *listen,
		      struct wm_tls_creds *creds,
		      const struct wm_relay_tcp_limits *lim,
		      char *err, size_t errlen);
/* New connections use creds (NULL: no TLS) from now on; connections
 * already open keep theirs (each holds a reference, tls.h). */
void wm_relay_tcp_set_creds(struct wm_relay_tcp *t, struct wm_tls_creds *creds);
/* A new per-address cap for new connections (0: none). */
void wm_relay_tcp_set_per_address(struct wm_relay_tcp *t, unsigned n);
/* Closes every connection and the listener; NULL is fine. */
void wm_relay_tcp_close(struct wm_relay_tcp *t);

/* Queues one datagram (the prefix is added here) on connection conn and
 * starts sending it. 0, -ENOTCONN (gone) or -ENOBUFS (queue full). */
int wm_relay_tcp_send(struct wm_relay_tcp *t, uint32_t conn,
		      const uint8_t *buf, size_t len);

/* Closes connections that failed or timed out; call about once a second
 * (a connection whose send failed outside its own event is closed here at
 * the latest). now_ns is the monotonic clock (wg/clock.h). */
void wm_relay_tcp_tick(struct wm_relay_tcp *t, uint64_t now_ns);

void wm_relay_tcp_get_stats(const struct wm_relay_tcp *t,
			    struct wm_relay_tcp_stats *out);

#endif
