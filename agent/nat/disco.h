/*
 * disco.h - path discovery messages between two agents (after Tailscale's
 * disco), sealed end to end so neither the relay nor the network can forge
 * or read them.
 *
 * Wire format, version 2 (all of it one UDP datagram, or one relay frame
 * body):
 *
 *     "WMD" 0x02 | pair id (16) | nonce (24) |
 *     XChaCha20-Poly1305(key, nonce, payload) with those 44 bytes as AD
 *
 * No static public key is on the wire: the pair id tells the receiver who
 * sent it, and an observer learns nothing that lasts (it changes every
 * hour and differs per direction):
 *
 *     id key  = HMAC-BLAKE2s(DH(a, B), "wiremesh disco id v2")
 *     pair id = BLAKE2s-128(key = id key,
 *                           epoch (8, big-endian) | sender public key (32))
 *     epoch   = the sender's wall clock in seconds / WM_DISCO_EPOCH_S
 *
 * The receiver keeps, per peer, the ids that peer would send for the
 * epochs before, at and after its own (clocks up to an hour apart still
 * meet), and finds the peer by them.
 *
 * Version 1, still accepted and sent to a peer whose last authentic
 * message was version 1 (an older agent; agent/peer_disco.c):
 *
 *     "WMD" 0x01 | sender public key (32) | nonce (24) |
 *     XChaCha20-Poly1305(key, nonce, payload) with those 60 bytes as AD
 *
 * key = HMAC-BLAKE2s(DH(a, B), "wiremesh disco v1") in both versions:
 * only the two agents can compute it (the version byte is in the AD). The
 * payload starts with type (1) and a time (8, big-endian), then:
 *
 *     PING            txid (12)
 *     PONG            txid (12) | observed source address (19)
 *     CALL_ME_MAYBE   count (1) | count addresses (19 each), at most 16
 *     BIRTHDAY        address (19): "I am behind an endpoint-dependent NAT
 *                     and have opened my extra sockets toward you: ping
 *                     random ports of this address's IP" (nat/birthday.h)
 *     MAPPING         NAT mapping (1): 0 unknown, 1 endpoint-independent,
 *                     2 endpoint-dependent; sent with CALL_ME_MAYBE (a
 *                     message of its own: an older agent drops an unknown
 *                     type, while a longer CALL_ME_MAYBE would cost it the
 *                     candidates)
 *
 * The time is, in version 1, the sender's wall clock in seconds, refused
 * beyond WM_DISCO_MAX_SKEW_S of the receiver's (stale). In version 2 it
 * is the sender's wall clock in nanoseconds made strictly increasing, a
 * counter the receiver compares only with the sender's earlier ones
 * (nat/discovery.c's replay window): the two clocks need not agree. As
 * with WireGuard's handshake timestamp, a sender restarted with its clock
 * set back is refused until it passes the counter it had reached; a
 * restarted receiver takes the first message of each peer as it comes.
 *
 * An address is family (1: 4 or 6) | port (2, big-endian) | address (16;
 * IPv4 in the first four bytes).
 *
 * Pure: marshalling and sealing only, no sockets, clock or globals.
 */
#ifndef WM_DISCO_H
#define WM_DISCO_H

#include "agent/wg/messages.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WM_DISCO_MAGIC "WMD\x01"    /* version 1 */
#define WM_DISCO_MAGIC_V2 "WMD\x02"
enum {
	WM_DISCO_MAGIC_LEN = 4,
	WM_DISCO_ID = 16,
	WM_DISCO_HDR = WM_DISCO_MAGIC_LEN + WM_KEY_SIZE + 24, /* version 1 */
	WM_DISCO_HDR_V2 = WM_DISCO_MAGIC_LEN + WM_DISCO_ID + 24,
	WM_DISCO_EPOCH_S = 3600,
	WM_DISCO_TXID = 12,
	WM_DISCO_ADDR = 19,
	WM_DISCO_MAX_CANDIDATES = 16,
	WM_DISCO_MAX_PAYLOAD = 1 + 8 + 1 + WM_DISCO_MAX_CANDIDATES * WM_DISCO_ADDR,
	WM_DISCO_MAX = WM_DISCO_HDR + WM_DISCO_MAX_PAYLOAD + 16,
	/* Messages whose clock differs more than this are refused. */
	WM_DISCO_MAX_SKEW_S = 60,
};

enum wm_disco_type {
	WM_DISCO_PING = 1,
	WM_DISCO_PONG = 2,
	WM_DISCO_CALL_ME_MAYBE = 3,
	WM_DISCO_BIRTHDAY = 4,
	WM_DISCO_MAPPING = 5,
};

struct wm_disco_msg {
	enum wm_disco_type type;
	/* Version 1: the sender's wall clock in seconds; version 2: its
	 * strictly increasing counter (wall clock in nanoseconds). */
	int64_t sent_at;
	int version;     /* set by wm_disco_open: 1 or 2 */
	uint8_t txid[WM_DISCO_TXID];
	union wm_sockaddr observed; /* PONG */
	union wm_sockaddr candidates[WM_DISCO_MAX_CANDIDATES];
	size_t n_candidates;        /* CALL_ME_MAYBE */
	uint8_t mapping;            /* MAPPING: enum wm_nat_mapping */
	union wm_sockaddr target;   /* BIRTHDAY: the address to probe */
};

enum wm_disco_result {
	WM_DISCO_OK = 0,
	WM_DISCO_MALFORMED,
	WM_DISCO_BAD_AUTH,
	WM_DISCO_STALE,
};

/* True when buf carries the disco magic of version 1 or 2. */
bool wm_disco_is_disco(const uint8_t *buf, size_t len);

/* 1 or 2 for a datagram wm_disco_is_disco() accepted. */
int wm_disco_version(const uint8_t *buf);

/* The sender's public key of a version 1 datagram (len >= WM_DISCO_HDR). */
const uint8_t *wm_disco_sender(const uint8_t *buf);

/* The pair id of a version 2 datagram (len >= WM_DISCO_HDR_V2). */
const uint8_t *wm_disco_id(const uint8_t *buf);

/* The nonce (24 bytes) of a datagram of either version, long enough to
 * hold its header. */
const uint8_t *wm_disco_nonce(const uint8_t *buf);

/* key = the pair's disco key from their static DH result. */
void wm_disco_key(uint8_t key[32], const uint8_t shared[32]);

/* id_key = the pair's id key from their static DH result (version 2). */
void wm_disco_id_key(uint8_t id_key[32], const uint8_t shared[32]);

/* The pair id that sender puts on its messages in epoch (version 2). */
void wm_disco_pair_id(uint8_t id[WM_DISCO_ID], const uint8_t id_key[32],
		      const uint8_t sender[WM_KEY_SIZE], int64_t epoch);

/* The epoch of a wall clock time in seconds (floor division). */
int64_t wm_disco_epoch(int64_t wall_s);

/* Builds and seals msg into out (WM_DISCO_MAX bytes), version 1. Returns
 * the length, 0 when msg is invalid (unknown type, too many candidates,
 * an address that is neither IPv4 nor IPv6). nonce is 24 random bytes. */
size_t wm_disco_seal(uint8_t *out, const struct wm_disco_msg *msg,
		     const uint8_t sender[WM_KEY_SIZE], const uint8_t key[32],
		     const uint8_t nonce[24]);

/* The same in version 2, with the pair id (wm_disco_pair_id) in place of
 * the sender's key. */
size_t wm_disco_seal_v2(uint8_t *out, const struct wm_disco_msg *msg,
			const uint8_t id[WM_DISCO_ID], const uint8_t key[32],
			const uint8_t nonce[24]);

/* Opens and parses buf, of either version. now is the receiver's wall
 * clock in seconds: a version 1 message too far from it is STALE; a
 * version 2 message has no clock check here (its time is a counter for
 * the replay window of nat/discovery.h). */
enum wm_disco_result wm_disco_open(struct wm_disco_msg *msg,
				   const uint8_t *buf, size_t len,
				   const uint8_t key[32], int64_t now);

#endif
