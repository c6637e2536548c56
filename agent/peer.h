/*
 * peer.h - one WireGuard peer: its handshake state, up to three sessions
 * (previous, current, next, as the kernel keeps them), its endpoint, its
 * timers' deadlines, counters, and the packets waiting for a session.
 *
 * Owned by the control thread (the event loop). Nothing here is touched
 * from another thread today; when a second data thread arrives, sessions
 * are published to it with atomics (see DESIGN.md, Threads).
 */
#ifndef WM_PEER_H
#define WM_PEER_H

#include "agent/config.h"
#include "agent/wg/cookie.h"
#include "agent/nat/disco.h"
#include "agent/wg/noise.h"
#include "agent/wg/replay.h"
#include "agent/wg/session.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct wm_device;

enum { WM_STAGED_MAX = 128, WM_PACKET_MAX = 65536 };

/* A packet waiting for a session (bounded; oldest dropped first). */
struct wm_staged {
	uint8_t *data;
	size_t len;
};

/* Timers: deadlines in monotonic ns, 0 when not armed. timers.c owns them. */
struct wm_peer_timers {
	uint64_t retransmit_handshake;
	uint64_t send_keepalive;
	uint64_t new_handshake;
	uint64_t zero_key_material;
	uint64_t persistent_keepalive;
	bool need_another_keepalive;
	unsigned handshake_attempts;
	uint64_t last_initiation_sent; /* for REKEY_TIMEOUT rate limiting */
};

/* One address the other side might be reached at, and what probing it
 * found (discovery.c). */
struct wm_candidate {
	union wm_sockaddr addr;
	uint8_t txid[WM_DISCO_TXID];
	uint64_t ping_sent_ns;
	uint64_t pong_ns;  /* 0 = never answered */
	uint64_t rtt_ns;
};

enum { WM_DISCO_SEEN = 256 };

struct wm_peer_disco {
	uint8_t key[32];
	bool have_key;
	/* Nonces of disco messages already taken (replay protection). */
	struct { uint64_t tag, at; } seen[WM_DISCO_SEEN];
	unsigned seen_next;
	uint64_t last_cmm_ns;   /* start of the CALL_ME_MAYBE window */
	unsigned cmm_in_window;
	/* An endpoint whose WireGuard traffic failed while its disco pongs
	 * kept coming (a disco-only forwarder, an MTU black hole): pongs
	 * from it prove nothing until bad_until. */
	union wm_sockaddr bad_endpoint;
	uint64_t bad_until;
	struct wm_candidate cand[WM_DISCO_MAX_CANDIDATES];
	size_t n_cand;
	uint64_t next_probe_ns;
	unsigned backoff_s;
	uint64_t last_heartbeat_ns;
	uint64_t rtt_ns; /* of the direct path in use, 0 = unknown */
};

struct wm_peer {
	struct wm_peer *next; /* the device's list */
	struct wm_device *dev;
	uint8_t public_key[WM_KEY_SIZE];
	struct wm_noise_peer noise;
	struct wm_cookie_maker cookie;
	struct wm_handshake hs;

	/* next: responder keys not yet confirmed by the initiator's first
	 * packet; current: what we send with; previous: still accepted for
	 * packets in flight across a rekey. */
	struct wm_session sessions[3];
	struct wm_session *current, *previous, *next_session;

	union wm_sockaddr endpoint; /* AF_UNSPEC until known */
	union wm_sockaddr config_endpoint; /* as last configured (file, API) */
	uint16_t persistent_keepalive;
	enum wm_path_mode path_mode;
	struct wm_peer_timers timers;

	struct wm_staged staged[WM_STAGED_MAX];
	unsigned staged_head, staged_len;

	/* Path selection inputs (path.c); monotonic ns, 0 = never. */
	uint64_t direct_rx_ns;  /* authenticated packet straight from endpoint */
	uint64_t relay_rx_ns;   /* authenticated packet through the relay */
	uint64_t relay_gone_ns; /* the relay said this peer is not connected */
	uint64_t relayed_initiation_ns; /* rate limit before DH (handshake.c) */
	/* WireGuard (not disco) liveness of the direct path: the last
	 * authenticated WireGuard packet straight from the endpoint, and
	 * since when we have sent data directly without one (send.c). */
	uint64_t wg_direct_rx_ns;
	uint64_t direct_tx_since;
	int last_via;           /* enum wm_via last reported, for events */
	struct wm_peer_disco disco;

	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_sec, last_handshake_nsec; /* wall clock */
	uint64_t last_handshake_mono;                     /* 0 = never */
};

/* Allocates a peer for dev's identity. NULL on ENOMEM. */
struct wm_peer *wm_peer_new(struct wm_device *dev,
			    const uint8_t public_key[WM_KEY_SIZE]);
/* Wipes every secret and frees the peer (not unlinking it). */
void wm_peer_free(struct wm_peer *p);

/* Where a peer's endpoint came from. */
enum wm_endpoint_source {
	WM_EP_CONFIG, /* config file, SIGHUP, REST API or `wg set`: the
		       * operator's word; a change voids what was proven */
	WM_EP_ROAMED, /* an authenticated WireGuard packet came from it */
	WM_EP_DISCO,  /* discovery proved it with a pong and picked it */
};

/* The one place a peer's endpoint changes. ep may not be NULL. Returns
 * true when the endpoint differs from before. */
bool wm_peer_set_endpoint(struct wm_peer *p, const union wm_sockaddr *ep,
			  enum wm_endpoint_source src);

/* Sets (psk) or clears (NULL) the preshared key. */
void wm_peer_set_psk(struct wm_peer *p, const uint8_t *psk);

/* Queues a copy of a packet until a session exists. Returns false when it
 * had to drop the oldest to make room (counted by the caller). */
bool wm_peer_stage(struct wm_peer *p, const uint8_t *pkt, size_t len);
/* Takes the oldest staged packet; false when none. Caller frees data. */
bool wm_peer_unstage(struct wm_peer *p, struct wm_staged *out);
void wm_peer_clear_staged(struct wm_peer *p);

/* Installs a new session in the right slot (see the struct comment) and
 * returns it; the slot it replaces is wiped. */
struct wm_session *wm_peer_install_session(struct wm_peer *p,
					   const struct wm_keypair *kp);
/* The responder's next session is confirmed: it becomes current. */
void wm_peer_confirm_next(struct wm_peer *p);
/* Wipes all sessions and the handshake (zero_key_material). */
void wm_peer_zero_sessions(struct wm_peer *p);

#endif
