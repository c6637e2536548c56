/*
 * disco.h - path discovery messages between two agents (after Tailscale's
 * disco), sealed end to end so neither the relay nor the network can forge
 * or read them.
 *
 * Wire format (all of it one UDP datagram, or one relay frame body):
 *
 *     "WMD" 0x01 | sender public key (32) | nonce (24) |
 *     XChaCha20-Poly1305(key, nonce, payload) with those 60 bytes as AD
 *
 * key = HMAC-BLAKE2s(DH(a, B), "wiremesh disco v1"): only the two agents
 * can compute it. The payload starts with type (1) and the sender's wall
 * clock (8, seconds, big-endian) so stale messages can be refused, then:
 *
 *     PING            txid (12)
 *     PONG            txid (12) | observed source address (19)
 *     CALL_ME_MAYBE   count (1) | count addresses (19 each), at most 16
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

#define WM_DISCO_MAGIC "WMD\x01"
enum {
	WM_DISCO_MAGIC_LEN = 4,
	WM_DISCO_HDR = WM_DISCO_MAGIC_LEN + WM_KEY_SIZE + 24,
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
};

struct wm_disco_msg {
	enum wm_disco_type type;
	int64_t sent_at; /* sender's wall clock, seconds */
	uint8_t txid[WM_DISCO_TXID];
	union wm_sockaddr observed; /* PONG */
	union wm_sockaddr candidates[WM_DISCO_MAX_CANDIDATES];
	size_t n_candidates;        /* CALL_ME_MAYBE */
};

enum wm_disco_result {
	WM_DISCO_OK = 0,
	WM_DISCO_MALFORMED,
	WM_DISCO_BAD_AUTH,
	WM_DISCO_STALE,
};

/* True when buf carries the disco magic. */
bool wm_disco_is_disco(const uint8_t *buf, size_t len);

/* The sender's public key of a disco datagram (len >= WM_DISCO_HDR). */
const uint8_t *wm_disco_sender(const uint8_t *buf);

/* key = the pair's disco key from their static DH result. */
void wm_disco_key(uint8_t key[32], const uint8_t shared[32]);

/* Builds and seals msg into out (WM_DISCO_MAX bytes). Returns the length,
 * 0 when msg is invalid (unknown type, too many candidates, an address
 * that is neither IPv4 nor IPv6). nonce is 24 random bytes. */
size_t wm_disco_seal(uint8_t *out, const struct wm_disco_msg *msg,
		     const uint8_t sender[WM_KEY_SIZE], const uint8_t key[32],
		     const uint8_t nonce[24]);

/* Opens and parses buf. now is the receiver's wall clock in seconds. */
enum wm_disco_result wm_disco_open(struct wm_disco_msg *msg,
				   const uint8_t *buf, size_t len,
				   const uint8_t key[32], int64_t now);

#endif
