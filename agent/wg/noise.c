/* See noise.h. Each step carries the Noise pattern token it implements. */
#include "agent/wg/noise.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/ct.h"
#include "crypto/hkdf.h"
#include "crypto/x25519.h"

#include <endian.h>
#include <string.h>

static void mix_hash(uint8_t hash[WM_HASH_SIZE], const void *in, size_t len)
{
	struct wm_blake2s s;

	wm_blake2s_init(&s, WM_HASH_SIZE, NULL, 0);
	wm_blake2s_update(&s, hash, WM_HASH_SIZE);
	wm_blake2s_update(&s, in, len);
	wm_blake2s_final(&s, hash);
}

/* ck and h before the first message token, seeded with the responder's
 * static key. Cheap enough (two hashes) to redo rather than cache. */
static void handshake_start(uint8_t ck[WM_HASH_SIZE], uint8_t h[WM_HASH_SIZE],
			    const uint8_t responder_static[WM_KEY_SIZE])
{
	wm_blake2s(ck, WM_HASH_SIZE, WM_NOISE_CONSTRUCTION,
		   sizeof(WM_NOISE_CONSTRUCTION) - 1, NULL, 0);
	memcpy(h, ck, WM_HASH_SIZE);
	mix_hash(h, WM_NOISE_IDENTIFIER, sizeof(WM_NOISE_IDENTIFIER) - 1);
	mix_hash(h, responder_static, WM_KEY_SIZE);
}

/* ck, key = KDF2(ck, DH(priv, pub)); false on a zero DH result. */
static bool mix_dh(uint8_t ck[WM_HASH_SIZE], uint8_t *key,
		   const uint8_t priv[WM_KEY_SIZE],
		   const uint8_t pub[WM_KEY_SIZE])
{
	uint8_t dh[WM_KEY_SIZE];

	if (!wm_x25519(dh, priv, pub))
		return false;
	wm_kdf(ck, key, NULL, ck, dh, sizeof(dh));
	wm_memzero(dh, sizeof(dh));
	return true;
}

/* The same with a precomputed DH; a zeroed one means the DH failed. */
static bool mix_precomputed(uint8_t ck[WM_HASH_SIZE], uint8_t key[WM_KEY_SIZE],
			    const uint8_t ss[WM_KEY_SIZE])
{
	if (wm_ct_is_zero(ss, WM_KEY_SIZE))
		return false;
	wm_kdf(ck, key, NULL, ck, ss, WM_KEY_SIZE);
	return true;
}

static void mix_psk(uint8_t ck[WM_HASH_SIZE], uint8_t h[WM_HASH_SIZE],
		    uint8_t key[WM_KEY_SIZE], const uint8_t psk[WM_KEY_SIZE])
{
	uint8_t tau[WM_HASH_SIZE];

	wm_kdf(ck, tau, key, ck, psk, WM_KEY_SIZE);
	mix_hash(h, tau, sizeof(tau));
	wm_memzero(tau, sizeof(tau));
}

/* Encrypts with AD = h, then absorbs the ciphertext into h. */
static void seal_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t key[WM_KEY_SIZE], uint8_t h[WM_HASH_SIZE])
{
	wm_aead_seal(dst, src, len, h, WM_HASH_SIZE, 0, key);
	mix_hash(h, dst, len + WM_TAG_SIZE);
}

static bool open_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t key[WM_KEY_SIZE], uint8_t h[WM_HASH_SIZE])
{
	if (!wm_aead_open(dst, src, len + WM_TAG_SIZE, h, WM_HASH_SIZE, 0, key))
		return false;
	mix_hash(h, src, len + WM_TAG_SIZE);
	return true;
}

/* e: the ephemeral public key is sent in clear and mixed into ck and h. */
static void mix_ephemeral(uint8_t ck[WM_HASH_SIZE], uint8_t h[WM_HASH_SIZE],
			  const uint8_t eph_pub[WM_KEY_SIZE])
{
	wm_kdf(ck, NULL, NULL, ck, eph_pub, WM_KEY_SIZE);
	mix_hash(h, eph_pub, WM_KEY_SIZE);
}

static void set_header(struct wm_msg_header *hdr, enum wm_message_type type)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->type = (uint8_t)type;
}

void wm_noise_local_init(struct wm_noise_local *local,
			 const uint8_t private_key[WM_KEY_SIZE])
{
	memcpy(local->private_key, private_key, WM_KEY_SIZE);
	wm_x25519_clamp(local->private_key);
	wm_x25519_public(local->public_key, local->private_key);
}

void wm_noise_peer_rekey_local(struct wm_noise_peer *peer,
			       const struct wm_noise_local *local)
{
	if (!wm_x25519(peer->precomputed_ss, local->private_key,
		       peer->remote_static))
		wm_memzero(peer->precomputed_ss, WM_KEY_SIZE);
}

void wm_noise_peer_init(struct wm_noise_peer *peer,
			const struct wm_noise_local *local,
			const uint8_t remote_static[WM_KEY_SIZE],
			const uint8_t *psk)
{
	memset(peer, 0, sizeof(*peer));
	memcpy(peer->remote_static, remote_static, WM_KEY_SIZE);
	if (psk)
		memcpy(peer->preshared_key, psk, WM_KEY_SIZE);
	wm_noise_peer_rekey_local(peer, local);
}

enum wm_noise_result
wm_noise_create_initiation(struct wm_msg_initiation *msg,
			   struct wm_handshake *hs,
			   const struct wm_noise_local *local,
			   const struct wm_noise_peer *peer, uint32_t local_index,
			   const uint8_t ephemeral_private[WM_KEY_SIZE],
			   const uint8_t timestamp[WM_TIMESTAMP_SIZE])
{
	enum wm_noise_result ret = WM_NOISE_BAD_KEY;
	uint8_t key[WM_KEY_SIZE];

	memset(msg, 0, sizeof(*msg));
	memset(hs, 0, sizeof(*hs));
	set_header(&msg->header, WM_MSG_INITIATION);
	msg->sender_index = htole32(local_index);
	handshake_start(hs->chaining_key, hs->hash, peer->remote_static);

	/* e */
	memcpy(hs->ephemeral_private, ephemeral_private, WM_KEY_SIZE);
	wm_x25519_clamp(hs->ephemeral_private);
	wm_x25519_public(msg->unencrypted_ephemeral, hs->ephemeral_private);
	mix_ephemeral(hs->chaining_key, hs->hash, msg->unencrypted_ephemeral);

	/* es */
	if (!mix_dh(hs->chaining_key, key, hs->ephemeral_private,
		    peer->remote_static))
		goto out;

	/* s */
	seal_and_hash(msg->encrypted_static, local->public_key, WM_KEY_SIZE,
		      key, hs->hash);

	/* ss */
	if (!mix_precomputed(hs->chaining_key, key, peer->precomputed_ss))
		goto out;

	/* {t} */
	seal_and_hash(msg->encrypted_timestamp, timestamp, WM_TIMESTAMP_SIZE,
		      key, hs->hash);

	hs->local_index = local_index;
	hs->state = WM_HS_CREATED_INITIATION;
	ret = WM_NOISE_OK;
out:
	wm_memzero(key, sizeof(key));
	if (ret != WM_NOISE_OK)
		wm_memzero(hs, sizeof(*hs));
	return ret;
}

enum wm_noise_result
wm_noise_consume_initiation(const struct wm_msg_initiation *msg,
			    struct wm_handshake *hs,
			    const struct wm_noise_local *local,
			    wm_noise_lookup_fn lookup, void *lookup_ctx,
			    struct wm_noise_peer **peer_out, uint64_t now_ns)
{
	enum wm_noise_result ret = WM_NOISE_BAD_MESSAGE;
	uint8_t ck[WM_HASH_SIZE], h[WM_HASH_SIZE], key[WM_KEY_SIZE];
	uint8_t s[WM_KEY_SIZE], t[WM_TIMESTAMP_SIZE];
	struct wm_noise_peer *peer;
	bool replay, flood;

	*peer_out = NULL;
	if (msg->header.type != WM_MSG_INITIATION)
		return ret;
	handshake_start(ck, h, local->public_key);

	/* e */
	mix_ephemeral(ck, h, msg->unencrypted_ephemeral);

	/* es */
	ret = WM_NOISE_BAD_KEY;
	if (!mix_dh(ck, key, local->private_key, msg->unencrypted_ephemeral))
		goto out;

	/* s */
	ret = WM_NOISE_DECRYPT_FAILED;
	if (!open_and_hash(s, msg->encrypted_static, WM_KEY_SIZE, key, h))
		goto out;
	ret = WM_NOISE_UNKNOWN_PEER;
	peer = lookup(lookup_ctx, s);
	if (!peer)
		goto out;

	/* ss */
	ret = WM_NOISE_BAD_KEY;
	if (!mix_precomputed(ck, key, peer->precomputed_ss))
		goto out;

	/* {t} */
	ret = WM_NOISE_DECRYPT_FAILED;
	if (!open_and_hash(t, msg->encrypted_timestamp, WM_TIMESTAMP_SIZE, key,
			   h))
		goto out;

	/* TAI64N is big-endian, so a byte compare orders it. */
	replay = memcmp(t, peer->latest_timestamp, WM_TIMESTAMP_SIZE) <= 0;
	flood = peer->last_initiation_ns != 0 &&
		now_ns - peer->last_initiation_ns <
			WM_NSEC_PER_SEC / WM_INITIATIONS_PER_SECOND;
	ret = replay ? WM_NOISE_REPLAY : WM_NOISE_FLOOD;
	if (replay || flood)
		goto out;

	memcpy(peer->latest_timestamp, t, WM_TIMESTAMP_SIZE);
	peer->last_initiation_ns = now_ns;
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->chaining_key, ck, WM_HASH_SIZE);
	memcpy(hs->hash, h, WM_HASH_SIZE);
	memcpy(hs->remote_ephemeral, msg->unencrypted_ephemeral, WM_KEY_SIZE);
	hs->remote_index = le32toh(msg->sender_index);
	hs->state = WM_HS_CONSUMED_INITIATION;
	*peer_out = peer;
	ret = WM_NOISE_OK;
out:
	wm_memzero(ck, sizeof(ck));
	wm_memzero(h, sizeof(h));
	wm_memzero(key, sizeof(key));
	wm_memzero(s, sizeof(s));
	wm_memzero(t, sizeof(t));
	return ret;
}

enum wm_noise_result
wm_noise_create_response(struct wm_msg_response *msg, struct wm_handshake *hs,
			 const struct wm_noise_peer *peer,
			 uint32_t local_index,
			 const uint8_t ephemeral_private[WM_KEY_SIZE])
{
	enum wm_noise_result ret = WM_NOISE_BAD_MESSAGE;
	uint8_t key[WM_KEY_SIZE];

	memset(msg, 0, sizeof(*msg));
	if (hs->state != WM_HS_CONSUMED_INITIATION)
		return ret;
	set_header(&msg->header, WM_MSG_RESPONSE);
	msg->sender_index = htole32(local_index);
	msg->receiver_index = htole32(hs->remote_index);

	/* e */
	memcpy(hs->ephemeral_private, ephemeral_private, WM_KEY_SIZE);
	wm_x25519_clamp(hs->ephemeral_private);
	wm_x25519_public(msg->unencrypted_ephemeral, hs->ephemeral_private);
	mix_ephemeral(hs->chaining_key, hs->hash, msg->unencrypted_ephemeral);

	ret = WM_NOISE_BAD_KEY;
	/* ee */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_private,
		    hs->remote_ephemeral))
		goto out;
	/* se */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_private,
		    peer->remote_static))
		goto out;

	/* psk */
	mix_psk(hs->chaining_key, hs->hash, key, peer->preshared_key);

	/* {} */
	seal_and_hash(msg->encrypted_nothing, NULL, 0, key, hs->hash);

	hs->local_index = local_index;
	hs->state = WM_HS_CREATED_RESPONSE;
	ret = WM_NOISE_OK;
out:
	wm_memzero(key, sizeof(key));
	if (ret != WM_NOISE_OK)
		wm_memzero(hs, sizeof(*hs));
	return ret;
}

enum wm_noise_result
wm_noise_consume_response(const struct wm_msg_response *msg,
			  struct wm_handshake *hs,
			  const struct wm_noise_local *local,
			  const struct wm_noise_peer *peer)
{
	enum wm_noise_result ret = WM_NOISE_BAD_MESSAGE;
	uint8_t ck[WM_HASH_SIZE], h[WM_HASH_SIZE], key[WM_KEY_SIZE], nothing[1];

	if (msg->header.type != WM_MSG_RESPONSE ||
	    hs->state != WM_HS_CREATED_INITIATION ||
	    le32toh(msg->receiver_index) != hs->local_index)
		return ret;
	/* Work on copies: a forged response must not spoil the handshake
	 * that the real response will still complete. */
	memcpy(ck, hs->chaining_key, WM_HASH_SIZE);
	memcpy(h, hs->hash, WM_HASH_SIZE);

	/* e */
	mix_ephemeral(ck, h, msg->unencrypted_ephemeral);

	ret = WM_NOISE_BAD_KEY;
	/* ee */
	if (!mix_dh(ck, NULL, hs->ephemeral_private,
		    msg->unencrypted_ephemeral))
		goto out;
	/* se */
	if (!mix_dh(ck, NULL, local->private_key, msg->unencrypted_ephemeral))
		goto out;

	/* psk */
	mix_psk(ck, h, key, peer->preshared_key);

	/* {} */
	ret = WM_NOISE_DECRYPT_FAILED;
	if (!open_and_hash(nothing, msg->encrypted_nothing, 0, key, h))
		goto out;

	memcpy(hs->chaining_key, ck, WM_HASH_SIZE);
	memcpy(hs->hash, h, WM_HASH_SIZE);
	memcpy(hs->remote_ephemeral, msg->unencrypted_ephemeral, WM_KEY_SIZE);
	hs->remote_index = le32toh(msg->sender_index);
	hs->state = WM_HS_CONSUMED_RESPONSE;
	ret = WM_NOISE_OK;
out:
	wm_memzero(ck, sizeof(ck));
	wm_memzero(h, sizeof(h));
	wm_memzero(key, sizeof(key));
	return ret;
}

enum wm_noise_result wm_noise_derive_keypair(struct wm_keypair *kp,
					     struct wm_handshake *hs,
					     uint64_t now_ns)
{
	uint8_t first[WM_KEY_SIZE], second[WM_KEY_SIZE];
	bool initiator = hs->state == WM_HS_CONSUMED_RESPONSE;

	if (!initiator && hs->state != WM_HS_CREATED_RESPONSE)
		return WM_NOISE_BAD_MESSAGE;
	memset(kp, 0, sizeof(*kp));
	wm_kdf(first, second, NULL, hs->chaining_key, NULL, 0);
	memcpy(kp->send_key, initiator ? first : second, WM_KEY_SIZE);
	memcpy(kp->recv_key, initiator ? second : first, WM_KEY_SIZE);
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->birth_ns = now_ns;
	kp->is_initiator = initiator;
	wm_memzero(first, sizeof(first));
	wm_memzero(second, sizeof(second));
	wm_memzero(hs, sizeof(*hs));
	return WM_NOISE_OK;
}

void wm_noise_tai64n(uint8_t out[WM_TIMESTAMP_SIZE], int64_t sec, long nsec)
{
	/* TAI64 label: 2^62 + seconds; then nanoseconds, both big-endian.
	 * Rounding to the flood interval hides the clock's fine grain. */
	uint64_t s = 0x400000000000000aULL + (uint64_t)sec;
	uint32_t ns = (uint32_t)nsec & ~((1u << 24) - 1);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(s >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}
