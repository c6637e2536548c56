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
#include "agent/nat/birthday.h"
#include "agent/nat/discovery.h"
#include "agent/nat/path.h"
#include "agent/wg/cookie.h"
#include "agent/wg/index.h"
#include "agent/wg/noise.h"
#include "agent/wg/session.h"
#include "agent/wg/timers.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct wm_device;

enum { WM_STAGED_MAX = 128, WM_PACKET_MAX = 65536 };

/* A packet waiting for a session, in one allocation with its bytes. */
struct wm_staged {
	struct wm_staged *next;
	size_t len;
	uint8_t data[];
};

struct wm_peer {
	struct wm_peer *next; /* the device's list */
	struct wm_device *dev; /* for the API's views; peer.c never uses it */
	struct wm_index *index; /* the device's receiver indices */
	uint8_t public_key[WM_KEY_SIZE];
	struct wm_noise_peer noise;
	struct wm_cookie_maker cookie;
	struct wm_handshake hs;

	/* next: responder keys not yet confirmed by the initiator's first
	 * packet; current: what we send with; previous: still accepted for
	 * packets in flight across a rekey. The three slots are allocated
	 * by the first session and freed when all are zeroed, so a peer
	 * that never completes a handshake holds none. */
	struct wm_session *sessions; /* [3], or NULL */
	struct wm_session *current, *previous, *next_session;

	union wm_sockaddr endpoint; /* AF_UNSPEC until known */
	union wm_sockaddr config_endpoint; /* as last configured (file, API) */
	uint16_t persistent_keepalive;
	enum wm_path_mode path_mode;
	struct wm_timers timers;

	/* Packets waiting for a session, oldest first (at most
	 * WM_STAGED_MAX; none once a session sends them). */
	struct wm_staged *staged_first, *staged_last;
	unsigned staged_len;

	/* The path (nat/path.h): what it rests on, and the cached choice
	 * that sending reads (agent/peer_path.c decides it on events), and
	 * the path shown (API, metrics, events): via, but none while via is
	 * direct and the endpoint is not alive (wm_path_shown). */
	struct wm_path_state path;
	enum wm_via via;
	enum wm_via shown;
	/* The last authenticated packet (WireGuard or disco) per path, for
	 * the API's last_rx; monotonic ns, 0 = never. */
	uint64_t rx_direct_ns, rx_relay_ns;
	char name[WM_PEER_NAME_MAX]; /* Name =, "" when none */
	/* Which relay carries it (agent/relays.h; -1: none), and when each
	 * relay last said the peer is not connected there (0: never). */
	int relay;
	uint64_t relay_gone[WM_RELAYS_MAX];
	uint64_t relayed_initiation_ns; /* rate limit before DH (receive.c) */
	/* WireGuard (not disco) liveness of the direct path: the last
	 * authenticated WireGuard packet straight from the endpoint, and
	 * since when we have sent data directly without one (send.c). */
	uint64_t wg_direct_rx_ns;
	uint64_t direct_tx_since;
	/* time_to_direct: the first authenticated packet from the peer (any
	 * path), and the first direct path from then on; 0: not yet */
	uint64_t first_heard_ns, first_direct_ns;
	struct wm_disco_peer disco;
	struct wm_birthday bday; /* birthday probing (nat/birthday.h) */
	/* The socket this peer's direct path uses: -1, the ListenPort; else
	 * the one birthday socket that won (agent/peer_birthday.c owns and
	 * closes it; the send path only reads the fd). */
	int direct_fd;
	int direct_family;

	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_sec, last_handshake_nsec; /* wall clock */
	uint64_t last_handshake_mono;                     /* 0 = never */
};

/* Allocates a peer for the identity local, its indices in index. seed
 * feeds its timers' jitter. NULL on ENOMEM. */
struct wm_peer *wm_peer_new(const struct wm_noise_local *local,
			    struct wm_index *index,
			    const uint8_t public_key[WM_KEY_SIZE], uint64_t seed);
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

/* Sets PersistentKeepalive; turning it on makes a keepalive due now. */
void wm_peer_set_keepalive(struct wm_peer *p, uint16_t secs, uint64_t now_ns);

/* True when the peer has an endpoint. */
bool wm_peer_has_endpoint(const struct wm_peer *p);

/* Sets (psk) or clears (NULL) the preshared key. */
void wm_peer_set_psk(struct wm_peer *p, const uint8_t *psk);

/* Queues a copy of a packet until a session exists. Returns false when it
 * had to drop the oldest to make room, or had no memory for the copy
 * (counted by the caller). */
bool wm_peer_stage(struct wm_peer *p, const uint8_t *pkt, size_t len);
/* Takes the oldest staged packet; NULL when none. The caller free()s it. */
struct wm_staged *wm_peer_unstage(struct wm_peer *p);
void wm_peer_clear_staged(struct wm_peer *p);

/* Installs a new session in the right slot (see the struct comment) and
 * returns it; the slot it replaces is wiped. NULL when there was no
 * memory for the slots (nothing installed). */
struct wm_session *wm_peer_install_session(struct wm_peer *p,
					   const struct wm_keypair *kp);
/* The responder's next session is confirmed: it becomes current. */
void wm_peer_confirm_next(struct wm_peer *p);
/* Wipes all sessions and the handshake (zero_key_material), and frees
 * the session slots. */
void wm_peer_zero_sessions(struct wm_peer *p);

/* Milliseconds from the peer's first sign of life to its first direct
 * path; -1 while it has had none. */
static inline int64_t wm_peer_time_to_direct_ms(const struct wm_peer *p)
{
	if (!p->first_direct_ns || !p->first_heard_ns ||
	    p->first_direct_ns < p->first_heard_ns)
		return -1;
	return (int64_t)((p->first_direct_ns - p->first_heard_ns) / 1000000ULL);
}

#endif
