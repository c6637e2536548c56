/*
 * noise.h - the WireGuard handshake: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
 * with WireGuard's identifier, labels and message layout (messages.h).
 *
 * Pure: these functions read and write byte buffers and caller-owned state.
 * Time, randomness (ephemeral keys, indices) and peer lookup come in as
 * arguments, so every step is testable alone and with golden bytes. MACs are
 * cookie.c's business: callers add them after create_*() and check them
 * before consume_*().
 *
 * Flow (initiator I, responder R):
 *   I: wm_noise_create_initiation()  -> send
 *   R: wm_noise_consume_initiation() -> wm_noise_create_response() -> send
 *      -> wm_noise_derive_keypair()
 *   I: wm_noise_consume_response()   -> wm_noise_derive_keypair()
 */
#ifndef WM_NOISE_H
#define WM_NOISE_H

#include "agent/wg/messages.h"

#include <stdbool.h>
#include <stdint.h>

/* This host's static identity. */
struct wm_noise_local {
	uint8_t private_key[WM_KEY_SIZE];
	uint8_t public_key[WM_KEY_SIZE];
};

/* What a peer's handshakes need that outlives any one handshake. */
struct wm_noise_peer {
	uint8_t remote_static[WM_KEY_SIZE];
	uint8_t preshared_key[WM_KEY_SIZE];
	/* DH(local static, remote static): fixed for the pair, so computed
	 * once by wm_noise_peer_init(). All zero if the DH failed. */
	uint8_t precomputed_ss[WM_KEY_SIZE];
	uint8_t latest_timestamp[WM_TIMESTAMP_SIZE];
	uint64_t last_initiation_ns; /* when we last accepted one, for flood */
};

enum wm_handshake_state {
	WM_HS_ZEROED = 0,
	WM_HS_CREATED_INITIATION,
	WM_HS_CONSUMED_INITIATION,
	WM_HS_CREATED_RESPONSE,
	WM_HS_CONSUMED_RESPONSE,
};

/* One handshake in flight. Wiped once it yields a keypair or is dropped. */
struct wm_handshake {
	enum wm_handshake_state state;
	uint8_t hash[WM_HASH_SIZE];
	uint8_t chaining_key[WM_HASH_SIZE];
	uint8_t ephemeral_private[WM_KEY_SIZE];
	uint8_t remote_ephemeral[WM_KEY_SIZE];
	uint32_t local_index;
	uint32_t remote_index;
};

/* Transport keys of one session. Counters are the data plane's business. */
struct wm_keypair {
	uint8_t send_key[WM_KEY_SIZE];
	uint8_t recv_key[WM_KEY_SIZE];
	uint32_t local_index;
	uint32_t remote_index;
	uint64_t birth_ns;
	bool is_initiator;
};

/* Named outcomes, so callers can count and react to each. */
enum wm_noise_result {
	WM_NOISE_OK = 0,
	WM_NOISE_BAD_MESSAGE,    /* wrong type or state */
	WM_NOISE_BAD_KEY,        /* a DH gave zero (low-order point) */
	WM_NOISE_DECRYPT_FAILED, /* an AEAD tag did not verify */
	WM_NOISE_UNKNOWN_PEER,   /* static key of no configured peer */
	WM_NOISE_REPLAY,         /* timestamp not newer than the last one */
	WM_NOISE_FLOOD,          /* initiations arriving too fast */
};

/* Fills local->public_key from local->private_key (which is clamped). */
void wm_noise_local_init(struct wm_noise_local *local,
			 const uint8_t private_key[WM_KEY_SIZE]);

/* Sets up a peer for this local identity; psk may be NULL (all zero). */
void wm_noise_peer_init(struct wm_noise_peer *peer,
			const struct wm_noise_local *local,
			const uint8_t remote_static[WM_KEY_SIZE],
			const uint8_t *psk);

/* Recomputes precomputed_ss after the local private key changed. */
void wm_noise_peer_rekey_local(struct wm_noise_peer *peer,
			       const struct wm_noise_local *local);

/* Writes an initiation (macs zeroed) and leaves hs in CREATED_INITIATION.
 * ephemeral_private is a fresh random key; timestamp is TAI64N. */
enum wm_noise_result
wm_noise_create_initiation(struct wm_msg_initiation *msg,
			   struct wm_handshake *hs,
			   const struct wm_noise_local *local,
			   const struct wm_noise_peer *peer, uint32_t local_index,
			   const uint8_t ephemeral_private[WM_KEY_SIZE],
			   const uint8_t timestamp[WM_TIMESTAMP_SIZE]);

/* Finds the peer for a decrypted static key; NULL if unknown. */
typedef struct wm_noise_peer *(*wm_noise_lookup_fn)(
	void *ctx, const uint8_t remote_static[WM_KEY_SIZE]);

/* Authenticates an initiation. On WM_NOISE_OK, *peer_out is the sender,
 * hs is in CONSUMED_INITIATION, and the peer's timestamp and flood clock
 * are updated. now_ns is a monotonic clock. Nothing changes on failure. */
enum wm_noise_result
wm_noise_consume_initiation(const struct wm_msg_initiation *msg,
			    struct wm_handshake *hs,
			    const struct wm_noise_local *local,
			    wm_noise_lookup_fn lookup, void *lookup_ctx,
			    struct wm_noise_peer **peer_out, uint64_t now_ns);

/* Writes a response (macs zeroed) for hs in CONSUMED_INITIATION and
 * leaves hs in CREATED_RESPONSE. */
enum wm_noise_result
wm_noise_create_response(struct wm_msg_response *msg, struct wm_handshake *hs,
			 const struct wm_noise_peer *peer,
			 uint32_t local_index,
			 const uint8_t ephemeral_private[WM_KEY_SIZE]);

/* Authenticates a response to our initiation hs (CREATED_INITIATION, found
 * by the message's receiver index). On success hs is CONSUMED_RESPONSE;
 * on failure hs is unchanged. */
enum wm_noise_result
wm_noise_consume_response(const struct wm_msg_response *msg,
			  struct wm_handshake *hs,
			  const struct wm_noise_local *local,
			  const struct wm_noise_peer *peer);

/* Derives the session keys from a finished handshake (CONSUMED_RESPONSE on
 * the initiator, CREATED_RESPONSE on the responder) and wipes hs. */
enum wm_noise_result wm_noise_derive_keypair(struct wm_keypair *kp,
					     struct wm_handshake *hs,
					     uint64_t now_ns);

/* TAI64N of a CLOCK_REALTIME reading, with the nanoseconds rounded down
 * so the timestamp does not leak a fine-grained clock. */
void wm_noise_tai64n(uint8_t out[WM_TIMESTAMP_SIZE], int64_t sec,
		     long nsec);

#endif
