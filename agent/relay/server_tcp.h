/*
 * server_tcp.h - the relay's TCP fallback (TCPListen), plain or inside TLS
 * (TLSCert/TLSKey): accepts non-blocking connections up to a cap, cuts
 * the stream into 2-byte big-endian length-prefixed relay datagrams and
 * hands each to the relay core, and queues the core's answers on the
 * connection they are for.
 *
 * A connection is closed when its peer closes, on a bad length prefix, a
 * TLS or socket error, when no whole datagram came within 30 s of accept
 * (or 240 s since the last), and at shutdown; the core hears of each close
 * (wm_relay_conn_closed). A datagram that does not fit the connection's
 * send queue is dropped, as UDP would. Connection ids carry a generation,
 * so an answer meant for a closed connection never reaches its slot's
 * next occupant. Buffers are allocated per connection, at accept.
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
	uint64_t open; /* connections now */
};

/* Listens on listen ("ip:port", numeric) and serves connections through
 * relay. creds NULL: plain TCP. 0, or -errno with a message in err. */
int wm_relay_tcp_open(struct wm_relay_tcp **out, struct wm_loop *loop,
		      struct wm_relay *relay, const char *listen,
		      const struct wm_tls_creds *creds, unsigned max_conns,
		      char *err, size_t errlen);
/* Closes every connection and the listener; NULL is fine. */
void wm_relay_tcp_close(struct wm_relay_tcp *t);

/* Queues one datagram (the prefix is added here) on connection conn and
 * starts sending it. 0, -ENOTCONN (gone) or -ENOBUFS (queue full). */
int wm_relay_tcp_send(struct wm_relay_tcp *t, uint32_t conn,
		      const uint8_t *buf, size_t len);

/* Closes connections that failed or timed out; call about once a second
 * (a connection whose send failed outside its own event is closed here at
 * the latest). */
void wm_relay_tcp_tick(struct wm_relay_tcp *t, uint64_t now_ns);

void wm_relay_tcp_get_stats(const struct wm_relay_tcp *t,
			    struct wm_relay_tcp_stats *out);

#endif
