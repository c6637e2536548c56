/*
 * client.h - the agent's one session with its relay (relay/proto.h).
 *
 * It connects outbound only: UDP first; when UDP gets no answer within
 * WM_RELAY_UDP_WAIT_S, TCP to RelayTCP: TLS for tls://, plain for tcp://,
 * and for a bare host:port TLS first, then plain at once when that
 * attempt fails (a relay without a certificate closes a ClientHello);
 * what worked last is tried first next time. Lost sessions are
 * re-established with capped exponential backoff and jitter; while on TCP,
 * UDP is retried every WM_RELAY_UDP_RETRY_S, and for WM_RELAY_TCP_STICKY_S
 * after a session over TCP is lost the next attempts go to TCP at once.
 *
 * How a dead or restarted relay is noticed:
 *   - the relay's "unknown session" answer (proto.h) naming the current
 *     session: a new handshake at once, at most one per
 *     WM_RELAY_REHANDSHAKE_S; the session is kept until it completes, so
 *     a forged answer costs one handshake and nothing else;
 *   - traffic without an answer: when frames have gone out for
 *     WM_RELAY_QUIET_S since the last authenticated datagram came in
 *     (the last of them within WM_RELAY_PING_S), a PING at once; unanswered for
 *     WM_RELAY_PROBE_WAIT_S, new handshakes (one per
 *     WM_RELAY_REHANDSHAKE_S, the session kept); still nothing
 *     WM_RELAY_UDP_WAIT_S later, the relay is down;
 *   - idle: a PING every WM_RELAY_PING_S, down after WM_RELAY_DEAD_S of
 *     silence.
 *
 * SENDs go as forwarding frames (relay/fwd.h) once the relay has accepted
 * the offer in our first PING of the session (proto.h), sealed before and
 * with a relay of the first version; RECVs are taken in either form. The
 * agent frames its relayed packets into its own send batch
 * (wm_relay_client_wrap) while the session is over UDP.
 *
 * It calls nothing above it: frames for the agent are returned to the
 * caller (struct wm_relay_event: a WireGuard or disco message with the
 * sender key the relay authenticated, or "that key is gone"), and every
 * change between up and down bumps `changes`, which the agent watches to
 * re-decide its peers' paths. It sends on the agent's UDP socket (udp.h)
 * and owns its TCP/TLS connection; the agent registers that connection's
 * readiness handler (wm_relay_client_init's on_tcp) and, when it fires,
 * calls wm_relay_client_tcp_ready() and then takes frames with
 * wm_relay_client_next() until it returns false.
 *
 * Owned by the control thread.
 */
#ifndef WM_RELAY_CLIENT_H
#define WM_RELAY_CLIENT_H

#include "agent/loop.h"
#include "agent/relay/proto.h"
#include "agent/udp.h"
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "agent/wg/session.h"
#include "netif/addr.h"

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct wm_tls;

enum {
	WM_RELAY_UDP_WAIT_S = 3,
	WM_RELAY_UDP_RETRY_S = 30,
	WM_RELAY_PING_S = 5,
	WM_RELAY_DEAD_S = 16,
	WM_RELAY_QUIET_S = 2,
	WM_RELAY_PROBE_WAIT_S = 1,
	WM_RELAY_REHANDSHAKE_S = 1,
	WM_RELAY_TCP_STICKY_S = 30,
	WM_RELAY_BACKOFF_MAX_S = 30,
	WM_RELAY_TCP_BUF = 1 << 18,
};

enum wm_relay_state {
	WM_RELAY_IDLE = 0,      /* waiting for the next attempt */
	WM_RELAY_HANDSHAKE,     /* initiation sent, no response yet */
	WM_RELAY_UP,            /* session established */
};

enum wm_rc_transport { WM_RC_UDP = 0, WM_RC_TCP, WM_RC_TLS };

enum { WM_RELAY_TEXT_MAX = 256 }; /* "host:port" incl. NUL */

/* What a received relay datagram means for the agent. */
enum wm_relay_event_type {
	WM_RELAY_EV_FRAME = 1, /* body came from key (relay-authenticated) */
	WM_RELAY_EV_GONE,      /* key is not connected to the relay */
};

struct wm_relay_event {
	enum wm_relay_event_type type;
	const uint8_t *key;
	uint8_t *body; /* FRAME: decrypted in place in the client's buffer or
			* the caller's datagram; valid until the next call */
	size_t len;
};

struct wm_relay_stats {
	uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes;
	uint64_t gone, malformed, connects, disconnects;
	uint64_t unknown_session; /* "unknown session" answers naming ours */
	uint64_t probes;          /* PINGs sent because traffic went unanswered */
};

struct wm_relay_client {
	char name[IFNAMSIZ]; /* for logs */
	const struct wm_noise_local *local; /* the agent's identity */
	const struct wm_udp *udp;           /* the agent's socket */
	struct wm_loop *loop;
	void (*on_tcp)(struct wm_loop_handler *h, uint32_t events);
	void *on_tcp_ctx;
	int (*resolve)(void *ctx, const char *text, union wm_sockaddr *out);
	void *resolve_ctx;
	char udp_text[WM_RELAY_TEXT_MAX], tcp_text[WM_RELAY_TEXT_MAX];
	bool tcp_configured, tcp_tls;
	/* a bare RelayTCP: tcp_tls is the next kind to try, flipped when an
	 * attempt fails; tcp_flipped: the other kind is being tried at once */
	bool tcp_auto, tcp_flipped;
	union wm_sockaddr udp_addr, tcp_addr;

	struct wm_noise_peer noise;
	struct wm_cookie_maker cookie;
	struct wm_handshake hs;
	struct wm_session session; /* the relay's session; valid when UP */
	bool relay_fwd; /* the relay accepted forwarding frames on session */

	enum wm_relay_state state;
	enum wm_rc_transport transport;
	uint64_t attempt_start, next_attempt, last_rx, last_ping, last_udp_try;
	uint64_t last_rekey_try;
	uint64_t last_tx;          /* a frame for a peer last went out */
	uint64_t unanswered_since; /* the first frame out after last_rx */
	uint64_t probe_at;         /* an unanswered PING for silent traffic */
	uint64_t last_rehandshake; /* after "unknown session" or a probe */
	uint64_t tcp_lost_at;      /* a session over TCP/TLS was lost */
	unsigned backoff_s;
	uint64_t rtt_ns;

	int tcp_fd;
	bool tcp_connected;
	struct wm_loop_handler tcp_h;
	struct wm_tls *tls;
	uint8_t *tcp_in, *tcp_out;
	size_t tcp_in_len, tcp_in_off, tcp_out_len;

	uint8_t *txbuf;
	struct wm_relay_stats stats;
	unsigned changes; /* bumps at every change between up and down */
};

/* What the relay client is set up from. */
struct wm_relay_client_setup {
	const char *name;          /* the interface, for logs */
	const char *udp;           /* Relay = host:port */
	const char *tcp;           /* RelayTCP = [tls://|tcp://]host:port, or "" */
	const uint8_t *public_key; /* RelayPublicKey */
	const struct wm_noise_local *local; /* kept: must outlive rc */
	const struct wm_udp *udp_socket;    /* kept: must outlive rc */
	struct wm_loop *loop;
	/* The TCP connection's readiness handler (ctx is on_tcp_ctx). */
	void (*on_tcp)(struct wm_loop_handler *h, uint32_t events);
	void *on_tcp_ctx;
	/* Turns a host:port into an address without blocking (the agent's
	 * background resolver): 0, or <0 while it has no answer. NULL:
	 * numeric addresses only. */
	int (*resolve)(void *ctx, const char *text, union wm_sockaddr *out);
	void *resolve_ctx;
};

/* Sets up (does not connect). Returns 0, or -errno; a relay name that
 * does not resolve yet is not an error (it is retried). */
int wm_relay_client_init(struct wm_relay_client *rc,
			 const struct wm_relay_client_setup *setup);
void wm_relay_client_free(struct wm_relay_client *rc);

/* Drives connects, retries, pings and fallbacks. */
void wm_relay_client_tick(struct wm_relay_client *rc, uint64_t now_ns);

/* A datagram with the relay magic arrived on the agent's UDP socket.
 * True when it carries something for the agent (*ev). */
bool wm_relay_client_receive_udp(struct wm_relay_client *rc, uint8_t *buf,
				 size_t len, const union wm_sockaddr *src,
				 uint64_t now_ns, struct wm_relay_event *ev);

/* The TCP connection is ready (events from the loop, 0 from a tick). */
void wm_relay_client_tcp_ready(struct wm_relay_client *rc, uint32_t events,
			       uint64_t now_ns);
/* The next frame for the agent read over TCP; false when none is ready. */
bool wm_relay_client_next(struct wm_relay_client *rc, uint64_t now_ns,
			  struct wm_relay_event *ev);
/* True when the TLS engine holds bytes no socket event will announce:
 * call wm_relay_client_tcp_ready() and drain again. */
bool wm_relay_client_pending(const struct wm_relay_client *rc);

/* Sends body (a WireGuard or disco message) to the agent with key dst.
 * 0, or -ENOTCONN when the relay is not up, or -errno. */
int wm_relay_client_send(struct wm_relay_client *rc,
			 const uint8_t dst[WM_KEY_SIZE], const uint8_t *body,
			 size_t len);

/* The same into a datagram the caller sends (its batch): the body of
 * len bytes already at dgram + WM_RELAY_FWD_BODY, dgram with room for
 * WM_RELAY_FWD_MAX. Returns the datagram's length, for
 * wm_relay_client_addr(); 0 when the relay is not up over UDP (use
 * wm_relay_client_send). */
size_t wm_relay_client_wrap(struct wm_relay_client *rc, uint8_t *dgram,
			    const uint8_t dst[WM_KEY_SIZE], size_t len,
			    uint64_t now_ns);
/* NULL-safe: true when wm_relay_client_wrap can frame now (up over UDP). */
bool wm_relay_client_batchable(const struct wm_relay_client *rc);
/* Where the relay's UDP datagrams go. */
const union wm_sockaddr *wm_relay_client_addr(const struct wm_relay_client *rc);

/* Our private key changed: the relay session was made with the old one.
 * Recomputes the static DH and reconnects. NULL-safe. */
void wm_relay_client_identity_changed(struct wm_relay_client *rc,
				      uint64_t now_ns);

/* NULL-safe: true when frames can be sent now. */
bool wm_relay_client_up(const struct wm_relay_client *rc);
const char *wm_rc_transport_name(enum wm_rc_transport t);
/* The relay as configured, for logs and the API: its UDP endpoint, or its
 * RelayTCP when it has none (a TCP-only relay). */
const char *wm_relay_client_text(const struct wm_relay_client *rc);

#endif
