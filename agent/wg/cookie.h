/*
 * cookie.h - WireGuard's mac1/mac2 and cookie replies (whitepaper 5.4.4,
 * 5.4.7): mac1 proves the sender knows our public key; under load mac2
 * proves it owns its source address, by echoing a cookie we sent it.
 *
 * The maker is per peer (our side as sender); the checker is per device
 * (our side as receiver). Pure: time and randomness are arguments.
 */
#ifndef WM_COOKIE_H
#define WM_COOKIE_H

#include "agent/wg/messages.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sender side, keyed by the remote peer's public key. */
struct wm_cookie_maker {
	uint8_t mac1_key[WM_KEY_SIZE];
	uint8_t cookie_key[WM_KEY_SIZE];
	uint8_t cookie[WM_COOKIE_SIZE];
	uint64_t cookie_birth_ns; /* 0 = no cookie */
	uint8_t last_mac1[WM_COOKIE_SIZE];
	bool have_sent_mac1;
};

/* Receiver side, keyed by our own public key. */
struct wm_cookie_checker {
	uint8_t mac1_key[WM_KEY_SIZE];
	uint8_t cookie_key[WM_KEY_SIZE];
	uint8_t secret[WM_KEY_SIZE];
	uint64_t secret_birth_ns; /* 0 = never set */
};

enum wm_cookie_mac_state {
	WM_COOKIE_INVALID_MAC,       /* mac1 wrong: drop silently */
	WM_COOKIE_VALID_MAC,         /* mac1 right, mac2 absent or wrong */
	WM_COOKIE_VALID_MAC_COOKIE,  /* both right */
};

void wm_cookie_maker_init(struct wm_cookie_maker *m,
			  const uint8_t remote_public[WM_KEY_SIZE]);
void wm_cookie_checker_init(struct wm_cookie_checker *c,
			    const uint8_t local_public[WM_KEY_SIZE]);

/* Fills the trailing struct wm_msg_macs of msg (an initiation or response
 * of len bytes) and remembers mac1 for a cookie reply. */
void wm_cookie_add_macs(struct wm_cookie_maker *m, void *msg, size_t len,
			uint64_t now_ns);

/* True when the checker has no secret yet or its secret is
 * WM_COOKIE_SECRET_MAX_AGE (120 s) old or more: the caller should then
 * draw 32 random bytes and call wm_cookie_checker_rotate before validating.
 * A stale secret never validates a mac2 and builds no cookie reply. */
bool wm_cookie_checker_needs_secret(const struct wm_cookie_checker *c,
				    uint64_t now_ns);

/* Replaces the checker's secret with the 32 random bytes in secret (copied;
 * the caller wipes its own copy), born at now_ns. Cookies made from the
 * previous secret stop validating. */
void wm_cookie_checker_rotate(struct wm_cookie_checker *c,
			      const uint8_t secret[WM_KEY_SIZE],
			      uint64_t now_ns);

/* Checks mac1, and mac2 against the cookie for src (the sender's address
 * bytes, e.g. IP then port). With a stale secret (see needs_secret) mac2 is
 * not checked: the best answer is WM_COOKIE_VALID_MAC. */
enum wm_cookie_mac_state
wm_cookie_validate(const struct wm_cookie_checker *c, const void *msg,
		   size_t len, const void *src, size_t srclen, uint64_t now_ns);

/* Builds the cookie reply to msg (whose mac1 was valid) from src. nonce is
 * 24 random bytes; receiver_index is the sender index msg carried, exactly
 * as it sits on the wire (little-endian, not converted). Returns false and
 * builds nothing when the secret is stale (see needs_secret). */
bool wm_cookie_create_reply(struct wm_msg_cookie *out,
			    const struct wm_cookie_checker *c, const void *msg,
			    size_t len, uint32_t receiver_index,
			    const void *src, size_t srclen, uint64_t now_ns,
			    const uint8_t nonce[WM_COOKIE_NONCE_SIZE]);

/* Accepts a cookie reply to the last message we sent with mac1. False when
 * we sent none or it does not decrypt. */
bool wm_cookie_consume_reply(struct wm_cookie_maker *m,
			     const struct wm_msg_cookie *reply,
			     uint64_t now_ns);

#endif
