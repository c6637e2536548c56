/*
 * discovery.h - finding direct paths through NATs with disco messages
 * (disco.h): both sides probe at once, so both firewalls see an outbound
 * packet first (simultaneous open).
 *
 *   - While a peer has no proven direct path (and its mode allows one),
 *     every probe interval (WM_PROBE_MIN_S doubling to WM_PROBE_MAX_S) we
 *     send CALL_ME_MAYBE with our candidates through the relay and PING
 *     every candidate of theirs.
 *   - On CALL_ME_MAYBE we record their candidates and PING them at once.
 *   - On PING we answer PONG to where it came from, telling the sender
 *     the address we saw (and keep that address as a candidate).
 *   - The first authenticated PONG proves a path; the lowest-RTT proven
 *     candidate becomes the peer's endpoint.
 *   - While direct, a PING every WM_HEARTBEAT_S keeps the path proven;
 *     when PONGs stop, the path falls back to the relay after
 *     WM_DIRECT_TRUST_S (path.h), and probing resumes with backoff.
 *   - A peer in direct mode has no other path: its probes back off to
 *     WM_PROBE_DIRECT_MAX_S only, so a path that comes back is seen
 *     within seconds even when no traffic flows.
 *   - A change of our own candidates (new address, new STUN mapping)
 *     restarts probing at once.
 *
 * A state machine per peer, with no sockets, clock or peer struct: each
 * call gets what it needs to know (struct wm_disco_view) and returns what
 * to do (struct wm_disco_out): messages to seal and send, an endpoint to
 * switch to, a direct path proven. The agent acts (agent/peer_disco.c).
 */
#ifndef WM_DISCOVERY_H
#define WM_DISCOVERY_H

#include "agent/nat/disco.h"
#include "agent/nat/path.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WM_PROBE_MIN_S = 2, WM_PROBE_MAX_S = 30, WM_PROBE_DIRECT_MAX_S = 4,
       WM_HEARTBEAT_S = 2,
       WM_BAD_ENDPOINT_S = 60, WM_CMM_BURST = 3, WM_DISCO_SEEN = 256,
       WM_DISCO_OUT_MAX = WM_DISCO_MAX_CANDIDATES + 2 };

/* One address the other side might be reached at, and what probing it
 * found. */
struct wm_candidate {
	union wm_sockaddr addr;
	uint8_t txid[WM_DISCO_TXID];
	uint64_t ping_sent_ns;
	uint64_t pong_ns;  /* 0 = never answered */
	uint64_t rtt_ns;
};

/* Nonces of disco messages already taken (replay protection), each
 * remembered for 3 * WM_DISCO_MAX_SKEW_S, longer than the version 1
 * clock check lets a message live. A version 2 entry also holds the
 * message's counter: when the entry goes (overwritten, or the ring
 * freed), the peer's counter floor rises past it, so a message is either
 * still here or below the floor (no clock involved). */
struct wm_disco_seen {
	struct { uint64_t tag, at, ctr; } e[WM_DISCO_SEEN];
	unsigned next;
};

/* Discovery's memory of one peer. */
struct wm_disco_peer {
	uint8_t key[32]; /* the pair's disco key (disco.h) */
	uint8_t id_key[32]; /* the pair's id key (disco.h, version 2) */
	bool have_key;   /* key and id_key */
	/* The ids the peer sends under in epochs id_epoch - 1 .. + 1
	 * (wm_discovery_ids); valid while have_ids. */
	bool have_ids;
	int64_t id_epoch;
	uint8_t ids[3][WM_DISCO_ID];
	/* Version 2 replay window: counters at or below the floor are
	 * refused; high is the largest taken. */
	uint64_t ctr_floor, ctr_high;
	/* Its last authentic message was version 1 (an older agent): we
	 * answer in version 1. told_*: logged once. */
	bool speaks_v1, told_v1, told_skew;
	/* Allocated by the first authentic message, freed by the tick once
	 * every nonce in it has outlived its use: a peer that never sends
	 * disco (or stopped long ago) costs no replay memory. */
	struct wm_disco_seen *seen;
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

/* What a call needs to know of the peer and of us. */
struct wm_disco_view {
	enum wm_path_mode mode;
	union wm_sockaddr endpoint; /* the peer's; AF_UNSPEC when none */
	bool direct_proven;         /* wm_path_direct_proven() now */
	bool relay_up;
	const union wm_sockaddr *local; /* our candidates */
	size_t n_local;
	/* Our NAT mapping (enum wm_nat_mapping, stun_client.h), told in a
	 * MAPPING message beside CALL_ME_MAYBE, so the two sides know which
	 * one is hard (nat/birthday.h); not sent while unknown (nor, by
	 * agent/peer_disco.c, to a peer speaking disco version 1). */
	uint8_t mapping;
	/* Fills buf with random bytes; 0 or -errno (crypto/random.h's). */
	int (*random)(void *buf, size_t len);
};

/* A message to seal for the peer and send to `to`, or through the relay
 * when to is AF_UNSPEC. */
struct wm_disco_send {
	struct wm_disco_msg msg;
	union wm_sockaddr to;
};

/* What the agent must do after a call. */
struct wm_disco_out {
	struct wm_disco_send send[WM_DISCO_OUT_MAX];
	size_t n_send;
	bool set_endpoint;          /* switch the peer's endpoint to this */
	union wm_sockaddr endpoint;
	bool direct_proven;         /* a pong came from the endpoint: the
				     * direct path is proven now */
};

/* Computes the ids peer_pub sends under around epoch (the receiver's)
 * unless d holds them already. d->id_key must be set. */
void wm_discovery_ids(struct wm_disco_peer *d, const uint8_t peer_pub[32],
		      int64_t epoch);
/* True when id is one of the ids wm_discovery_ids computed. */
bool wm_discovery_has_id(const struct wm_disco_peer *d,
			 const uint8_t id[WM_DISCO_ID]);

/* Frees what discovery allocated for d (the peer is going away). */
void wm_discovery_free(struct wm_disco_peer *d);
/* Forget what was learnt (path mode changed); the key and the replay
 * memory stay. */
void wm_discovery_reset(struct wm_disco_peer *d);
/* Our candidates changed: probe at once. */
void wm_discovery_restart(struct wm_disco_peer *d);
/* Adds a known endpoint of the peer (config, API, roaming). Addresses a
 * peer may never make us probe (loopback, link-local, ...) are ignored. */
void wm_discovery_add_candidate(struct wm_disco_peer *d,
				const union wm_sockaddr *a);
/* Probes and heartbeats that are due; frees the replay memory once it
 * holds nothing still live. out is cleared first. */
void wm_discovery_tick(struct wm_disco_peer *d, const struct wm_disco_view *v,
		       uint64_t now_ns, struct wm_disco_out *out);
/* An authenticated message from src (NULL: through the relay), whose
 * nonce (24 bytes) is checked against replays first, and in version 2
 * its counter against the peer's floor. False when it was replayed, or
 * when there was no memory to remember its nonce (nothing done either
 * way). out is cleared first. */
bool wm_discovery_receive(struct wm_disco_peer *d, const struct wm_disco_view *v,
			  const struct wm_disco_msg *msg, const uint8_t *nonce,
			  const union wm_sockaddr *src, uint64_t now_ns,
			  struct wm_disco_out *out);
/* An authentic PONG from src answered a ping sent to no candidate (a
 * birthday probe, nat/birthday.h): src becomes a proven candidate and,
 * unless a direct path is proven already, the endpoint. out is cleared
 * first. */
void wm_discovery_proven(struct wm_disco_peer *d, const struct wm_disco_view *v,
			 const union wm_sockaddr *src, uint64_t rtt_ns,
			 uint64_t now_ns, struct wm_disco_out *out);
/* WireGuard got no answer over the direct path in use: stop trusting its
 * pongs for WM_BAD_ENDPOINT_S and probe again. True when that applied
 * (auto mode with a proven direct path): the caller then withdraws the
 * proof. */
bool wm_discovery_direct_failed(struct wm_disco_peer *d,
				const struct wm_disco_view *v, uint64_t now_ns);

#endif
