/*
 * relays.h - the agent's relays: a session with each configured relay (one
 * struct wm_relay_client each, relay/client.h), a home relay picked by
 * measured latency, and the relay that reaches a given peer.
 *
 * Health, per relay: down (no session), suspect (up, but a PING the client
 * sent because traffic went unanswered has had no answer for
 * WM_RELAYS_SUSPECT_MS: the relay may have died, the client has not given
 * up on it yet) or healthy. RTT: the lowest of the last WM_RELAYS_SAMPLES
 * PING/PONG samples of the client (one every few seconds), forgotten when
 * the session drops: a busy host only ever adds delay, and a mean of
 * samples on one makes homes flap.
 *
 * Home: the healthy relay with the lowest RTT, where relays within
 * a margin of each other (WM_RELAYS_MARGIN_MS, or a quarter of the RTT if
 * larger) count as equally fast and the earlier one in the config wins. It
 * moves at once when the home goes down or turns suspect and another
 * relay is healthy (failover within a few seconds of a relay dying under
 * traffic). Otherwise it moves only to a relay that has been healthy for
 * WM_RELAYS_SETTLE_S and is clearly better (hysteresis): faster by the
 * margin (the home's RTT resting on WM_RELAYS_MIN_SAMPLES samples or more,
 * as the first after a handshake is often slow), or earlier in the config
 * and not slower by more than half the margin. So a home that comes back
 * becomes home again once it settled.
 *
 * A peer's relay (wm_relays_pick; cached in the peer by peer_path.c): its
 * current one while that is up, healthy or with no healthy alternative, and
 * did not say "gone" for the peer within WM_RELAY_GONE_HOLD_S; else the
 * home, then the others by RTT, skipping those that said "gone". A frame
 * from the peer through relay i makes i the peer's relay (the peer is
 * connected there; answers go back the way the frame came). A home that
 * moves re-picks every peer.
 *
 * Pure bookkeeping over the clients: it reads their state and measurements
 * and returns what changed; the agent (agent.c) acts on it. Owned by the
 * control thread.
 */
#ifndef WM_RELAYS_H
#define WM_RELAYS_H

#include "agent/config.h"
#include "agent/relay/client.h"

#include <stdbool.h>
#include <stdint.h>

enum {
	WM_RELAYS_SUSPECT_MS = 1000,
	WM_RELAYS_MARGIN_MS = 10,
	WM_RELAYS_SETTLE_S = 3,
	WM_RELAYS_SAMPLES = 4,
	WM_RELAYS_MIN_SAMPLES = 3, /* of the home, before it is left as slower */
	/* In wm_relays_update's answer: the home moved. Bits 0..7 are the
	 * relays whose state (connected, transport, home) changed. */
	WM_RELAYS_HOME_MOVED = 1u << 16,
};

enum wm_relay_health { WM_RELAY_DOWN = 0, WM_RELAY_SUSPECT, WM_RELAY_HEALTHY };

struct wm_relays;

struct wm_relay_slot {
	struct wm_relay_client rc;
	struct wm_relays *set;   /* for the TCP handler (its ctx is the slot) */
	unsigned index;
	uint64_t srtt_ns;        /* the lowest recent sample; 0 = none yet */
	uint64_t rtt_seen;       /* the client's last sample, already taken */
	uint64_t samples[WM_RELAYS_SAMPLES]; /* this session's last ones */
	unsigned n_samples;
	uint64_t healthy_since;  /* 0 while not healthy */
	enum wm_relay_health health;
	bool reported_up, reported_home;
	enum wm_rc_transport reported_transport;
};

struct wm_relays {
	struct wm_relay_slot slot[WM_RELAYS_MAX];
	size_t n;
	int home;                 /* -1 while no relay is up */
	int prev_home;            /* before the last move (for logs) */
	uint64_t home_since;
	unsigned home_moves;
	uint8_t order[WM_RELAYS_MAX]; /* home first, then by RTT */
	void *owner;              /* the agent, for the TCP handlers */
};

/* Empty set; owner is kept for the TCP handlers. */
void wm_relays_init(struct wm_relays *rs, void *owner);
/* Sets up one more relay's client from su (its on_tcp_ctx becomes the
 * slot). 0, -ENOSPC past WM_RELAYS_MAX, or -errno from the client. */
int wm_relays_add(struct wm_relays *rs, const struct wm_relay_client_setup *su);
void wm_relays_free(struct wm_relays *rs);

/* Drives every client (relay/client.h). NULL-safe. */
void wm_relays_tick(struct wm_relays *rs, uint64_t now_ns);
/* Re-judges health, RTTs and the home. Returns what changed (bits above);
 * 0 when nothing did. NULL-safe. */
unsigned wm_relays_update(struct wm_relays *rs, uint64_t now_ns);

/* The relay whose UDP address is src, or -1. */
int wm_relays_by_source(const struct wm_relays *rs,
			const union wm_sockaddr *src);
/* Relay i's client; NULL for no relay (rs NULL, i < 0: a peer's relay
 * before one is picked) or out of range. */
struct wm_relay_client *wm_relays_client(struct wm_relays *rs, int i);

/* Sends body to key through relay i: 0, -ENOTCONN (i < 0, or not up), or
 * -errno (relay/client.h). NULL-safe. */
int wm_relays_send(struct wm_relays *rs, int i, const uint8_t key[32],
		   const uint8_t *body, size_t len);

/* Relay i is up (frames can go through it now). NULL-safe. */
bool wm_relays_up(const struct wm_relays *rs, int i);
bool wm_relays_any_up(const struct wm_relays *rs);
/* "down", "suspect" or "healthy", for logs. */
const char *wm_relay_health_name(enum wm_relay_health h);
/* RTT of relay i in ns (see the top), 0 when unknown. */
uint64_t wm_relays_rtt(const struct wm_relays *rs, int i);

/* The relay to reach a peer through (see the top): current is its relay
 * now (-1: none), gone[i] when relay i last said it is not connected
 * there (0: never). -1 when no relay is up. *all_gone: every relay that
 * is up said "gone" (the answer is then the best of them). */
int wm_relays_pick(const struct wm_relays *rs, int current,
		   const uint64_t gone[WM_RELAYS_MAX], uint64_t now_ns,
		   bool *all_gone);

#endif
