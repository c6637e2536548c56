/*
 * device.h - one wiremesh interface: identity, peers, the allowed-IPs table,
 * the receiver-index table, its sockets, and its drop counters.
 *
 * The management calls below are the only way peers change; the config
 * loader, SIGHUP reload, the wg UAPI and the REST API all go through them.
 * Everything here belongs to the control thread (the event loop). The
 * device calls nothing above it: what happens to peers is queued
 * (events) and an identity change is counted (identity_changes) for the
 * agent to act on.
 */
#ifndef WM_DEVICE_H
#define WM_DEVICE_H

#include "agent/wg/allowedips.h"
#include "agent/config.h"
#include "agent/event_queue.h"
#include "agent/tx_queue.h"
#include "agent/udp.h"
#include "agent/wg/cookie.h"
#include "agent/wg/ratelimit.h"
#include "agent/wg/index.h"
#include "agent/wg/noise.h"
#include "agent/peer.h"

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* Why packets were dropped; each is counted, none is logged per packet. */
struct wm_device_stats {
	uint64_t rx_malformed;        /* unknown type or wrong length */
	uint64_t rx_bad_mac;          /* mac1 did not verify */
	uint64_t rx_handshake_failed; /* noise refused it (named in logs) */
	uint64_t rx_unknown_index;
	uint64_t rx_bad_auth;         /* data tag did not verify */
	uint64_t rx_replay;
	uint64_t rx_expired;          /* session past REJECT_AFTER_TIME */
	uint64_t rx_bad_inner;        /* decrypted, but not a valid IP packet */
	uint64_t rx_source_not_allowed;
	uint64_t rx_unknown_peer;     /* relayed from a key that is no peer */
	uint64_t tx_no_route;         /* no peer's AllowedIPs matched */
	uint64_t tx_no_endpoint;
	uint64_t tx_send_errors;
	uint64_t tx_bad_offload;      /* a TUN super-packet we could not split */
	uint64_t staged_dropped;
	uint64_t cookie_replies_sent;
	uint64_t rx_handshake_limited; /* under load, over its source's budget */
	uint64_t handshakes_completed;
	uint64_t disco_rx, disco_tx, disco_dropped;
	uint64_t disco_v1_rx;      /* authentic disco in the old format */
	uint64_t disco_clock_skew; /* from a peer whose clock is off ours */
	uint64_t disco_unknown_id; /* version 2 naming no peer around our
				    * epoch: a stranger, or a peer whose
				    * clock is over an hour off */
	/* Birthday probing (nat/birthday.h): attempts started (either
	 * side), extra sockets opened (hard side), probes sent (easy
	 * side), attempts that found a path. */
	uint64_t bday_attempts, bday_sockets, bday_probes, bday_wins;
};

struct wm_relays;
struct wm_stun_client;
struct wm_tun_writer;
struct wm_ping_set;

/* Under load, handshake messages a second per source address (bursts of
 * WM_RATELIMIT_BURST): a quarter of the kernel's 20. The agent's one
 * thread does every Diffie-Hellman and carries the data too, where the
 * kernel spreads handshakes over every core; a legitimate peer handshakes
 * once in two minutes, or every 5 s while retrying. A cookie-answering
 * flood from N addresses buys 5N DH a second. */
enum { WM_HANDSHAKES_PER_SOURCE = 5 };

/* wg-quick's default MTU; with a relay configured the agent picks
 * WM_RELAY_PATH_MTU (relay/proto.h) instead. */
enum { WM_MTU_DEFAULT = 1420 };

struct wm_device {
	char ifname[IFNAMSIZ];
	struct wm_noise_local local;
	bool has_private_key;
	struct wm_cookie_checker cookie_checker;
	uint16_t listen_port; /* the bound port, after a random pick */
	uint32_t fwmark;
	unsigned mtu;

	struct wm_peer *peers;
	size_t peer_count;
	struct wm_allowedips allowedips;
	struct wm_index index;

	struct wm_udp udp; /* the one socket (udp.h) */
	struct wm_tx_queue txq; /* batched sends; off (no arena) unless
				 * wm_device_batch_sends() was called */
	int tun_fd;
	struct wm_tun_writer *tun_out; /* where deliveries go (the agent's) */
	struct wm_relays *relays;      /* NULL without a relay (relays.h) */
	struct wm_stun_client *stun;   /* NULL without STUN servers */
	unsigned identity_changes;     /* bumps when the private key does */

	/* Handshake messages with a valid mac1 from the wire in the current
	 * second; past a threshold we are "under load" (whitepaper 5.3):
	 * cookies are demanded, and even with one each source address gets
	 * a budget (ratelimit) before any Diffie-Hellman. */
	uint64_t load_window_start;
	unsigned load_window_count;
	uint64_t under_load_until;
	struct wm_ratelimit ratelimit;
	/* Randomness for handshakes and cookies (wm_random_bytes; tests
	 * count its calls). */
	int (*random)(void *buf, size_t len);

	/* Our own candidates for peers (discovery.c): interface addresses
	 * and STUN-reflexive ones, with the listen port. */
	union wm_sockaddr local_cands[WM_DISCO_MAX_CANDIDATES];
	size_t n_local_cands;
	/* The last disco counter sent (version 2: strictly increasing);
	 * disco_v1_only speaks only version 1, as agents before it did
	 * (WIREMESH_DISCO_V1=1, for interoperability tests). */
	uint64_t disco_ctr;
	bool disco_v1_only;
	/* BirthdayProbe = off (metered links): never probe. rx_bday_fd: the
	 * birthday socket the datagram being handled came from, -1 for any
	 * other (set around the demux by agent/peer_birthday.c). */
	bool birthday_off;
	int rx_bday_fd, rx_bday_family;
	/* The socket other than ListenPort (a birthday socket, probe or
	 * kept) the datagram being handled came from, -1 for ListenPort:
	 * cookie replies go back from it, as the NAT on the way expects. */
	int rx_sock_fd, rx_sock_family;

	struct wm_device_stats stats;
	struct wm_event_queue events;
	/* `wiremesh ping` rounds waiting for PONGs (agent/peer_ping.h). */
	struct wm_ping_set *pings;
};

/* Zeroes dev and sets up empty tables. Returns 0 or -errno. */
int wm_device_init(struct wm_device *dev, const char *ifname);
/* Frees peers and tables (sockets are the owner's to close). */
void wm_device_free(struct wm_device *dev);

/* Direct data is sealed into a send batch (tx_queue.h) that the owner
 * flushes when a round of the loop ends. 0 or -ENOMEM. */
int wm_device_batch_sends(struct wm_device *dev);

/* Changes the identity; every peer's precomputation follows and all
 * sessions drop (they were made with the old key). A peer whose key is
 * now our own is removed, as wg does. */
void wm_device_set_private_key(struct wm_device *dev, const uint8_t key[32]);

/* Forgets the identity (wg set private-key with an empty key): no
 * handshakes until a new one is set. */
void wm_device_clear_private_key(struct wm_device *dev);

struct wm_peer *wm_device_find_peer(const struct wm_device *dev,
				    const uint8_t key[32]);
/* Adds a peer (no allowed IPs, no endpoint). NULL with errno set. */
struct wm_peer *wm_device_add_peer(struct wm_device *dev,
				   const uint8_t key[32]);
void wm_device_remove_peer(struct wm_device *dev, struct wm_peer *p);
void wm_device_remove_all_peers(struct wm_device *dev);

/* Replaces the peer's prefixes. Returns 0 or -errno (nothing changed). */
int wm_device_set_allowed_ips(struct wm_device *dev, struct wm_peer *p,
			      const struct wm_cidr *c, size_t n);
int wm_device_add_allowed_ip(struct wm_device *dev, struct wm_peer *p,
			     const struct wm_cidr *c);

/* Applies one [Peer] (creating the peer when needed); unchanged fields
 * keep their state, so sessions survive. Returns 0 or -errno. */
int wm_device_apply_peer(struct wm_device *dev,
			 const struct wm_peer_config *pc, struct wm_peer **out);
/* Makes the peer set equal to cfg's (wg syncconf): peers not in cfg are
 * removed, others updated in place. Returns 0 or -errno. */
int wm_device_sync_peers(struct wm_device *dev, const struct wm_config *cfg);

/* Sets a peer's persistent keepalive; turning it on sends one at once. */
void wm_device_set_keepalive(struct wm_device *dev, struct wm_peer *p,
			     uint16_t secs);

#endif
