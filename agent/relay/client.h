/*
 * client.h - the agent's one session with its relay (relay/proto.h).
 *
 * It connects outbound only: UDP first; when UDP gets no answer within
 * WM_RELAY_UDP_WAIT_S, TCP (optionally TLS) to RelayTCP. Lost sessions are
 * re-established with capped exponential backoff and jitter; while on TCP,
 * UDP is retried every WM_RELAY_UDP_RETRY_S. Frames from the relay are fed
 * to the normal receive path as if they came off the wire.
 *
 * Owned by the control thread; driven by wm_relay_client_tick() and the
 * loop's readiness callbacks.
 */
#ifndef WM_RELAY_CLIENT_H
#define WM_RELAY_CLIENT_H

#include "agent/config.h"
#include "agent/wg/cookie.h"
#include "agent/loop.h"
#include "agent/wg/noise.h"
#include "agent/peer.h"
#include "agent/relay/proto.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct wm_device;
struct wm_tls;

enum {
	WM_RELAY_UDP_WAIT_S = 3,
	WM_RELAY_UDP_RETRY_S = 30,
	WM_RELAY_PING_S = 5,
	WM_RELAY_DEAD_S = 16,
	WM_RELAY_BACKOFF_MAX_S = 30,
	WM_RELAY_TCP_BUF = 1 << 18,
};

enum wm_relay_state {
	WM_RELAY_IDLE = 0,      /* waiting for the next attempt */
	WM_RELAY_HANDSHAKE,     /* initiation sent, no response yet */
	WM_RELAY_UP,            /* session established */
};

enum wm_rc_transport { WM_RC_UDP = 0, WM_RC_TCP, WM_RC_TLS };

struct wm_relay_stats {
	uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes;
	uint64_t gone, malformed, connects, disconnects;
};

struct wm_relay_client {
	struct wm_device *dev;
	struct wm_loop *loop;
	char udp_text[WM_HOSTPORT_MAX], tcp_text[WM_HOSTPORT_MAX];
	bool tcp_configured, tcp_tls;
	union wm_sockaddr udp_addr, tcp_addr;

	struct wm_noise_peer noise;
	struct wm_cookie_maker cookie;
	struct wm_handshake hs;
	struct wm_session session; /* the relay's session; valid when UP */

	enum wm_relay_state state;
	enum wm_rc_transport transport;
	uint64_t attempt_start, next_attempt, last_rx, last_ping, last_udp_try;
	uint64_t last_rekey_try;
	unsigned backoff_s;
	bool udp_probe_pending; /* a UDP initiation went out while on TCP */
	uint64_t rtt_ns;

	int tcp_fd;
	bool tcp_connected;
	struct wm_loop_handler tcp_h;
	struct wm_tls *tls;
	uint8_t *tcp_in, *tcp_out;
	size_t tcp_in_len, tcp_out_len;

	uint8_t *txbuf;
	struct wm_relay_stats stats;
};

/* Sets up (does not connect) from cfg's Relay/RelayTCP/RelayPublicKey.
 * Returns 0, or -errno; a relay name that does not resolve yet is not an
 * error (it is retried). */
int wm_relay_client_init(struct wm_relay_client *rc, struct wm_device *dev,
			 struct wm_loop *loop, const struct wm_config *cfg);
void wm_relay_client_free(struct wm_relay_client *rc);

/* Drives connects, retries, pings and fallbacks. */
void wm_relay_client_tick(struct wm_relay_client *rc, uint64_t now_ns);

/* A datagram with the relay magic arrived on the agent's UDP socket. */
void wm_relay_client_receive_udp(struct wm_relay_client *rc, uint8_t *buf,
				 size_t len, const union wm_sockaddr *src);

/* Sends body (a WireGuard or disco message) to the agent with key dst.
 * 0, or -ENOTCONN when the relay is not up, or -errno. */
int wm_relay_client_send(struct wm_relay_client *rc,
			 const uint8_t dst[WM_KEY_SIZE], const uint8_t *body,
			 size_t len);

/* Our private key changed: the relay session was made with the old one.
 * Recomputes the static DH and reconnects. NULL-safe. */
void wm_relay_client_identity_changed(struct wm_relay_client *rc);

/* NULL-safe: true when frames can be sent now. */
bool wm_relay_client_up(const struct wm_relay_client *rc);
const char *wm_rc_transport_name(enum wm_rc_transport t);

#endif
