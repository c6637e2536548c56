/* See relay/fwd.h. */
#include "agent/relay/fwd.h"
#include "crypto/aead.h"

#include <endian.h>
#include <string.h>

enum {
	OFF_TYPE = WM_RELAY_MAGIC_LEN,
	OFF_FLAGS = OFF_TYPE + 1,
	OFF_INDEX = OFF_TYPE + 4,
	OFF_COUNTER = OFF_TYPE + 8,
	OFF_FRAME = OFF_TYPE + 16,
	OFF_KEY = OFF_FRAME + 1,
	TAIL_AD = WM_RELAY_FWD_BODY + WM_TAG_SIZE + 2,
};

bool wm_relay_is_fwd(const uint8_t *buf, size_t len)
{
	return len >= WM_RELAY_MAGIC_LEN &&
	       memcmp(buf, WM_RELAY_MAGIC_V2, WM_RELAY_MAGIC_LEN) == 0;
}

/* A WireGuard transport data message: its last 16 bytes are an AEAD tag
 * over the rest, under keys only the two agents hold. */
static bool wg_data(const uint8_t *body, size_t n)
{
	return n >= WM_MSG_MIN_DATA && body[0] == WM_MSG_DATA && !body[1] &&
	       !body[2] && !body[3];
}

/* What the tag covers (fwd.h): the whole frame, or with the tail flag the
 * header, the body's tag and its length, gathered into tmp. */
static const uint8_t *covered(const uint8_t *dgram, size_t body_len,
			      uint8_t tmp[TAIL_AD], size_t *ad_len)
{
	if (!(dgram[OFF_FLAGS] & WM_RELAY_FWD_FLAG_TAIL)) {
		*ad_len = WM_RELAY_FWD_BODY + body_len;
		return dgram;
	}
	memcpy(tmp, dgram, WM_RELAY_FWD_BODY);
	memcpy(tmp + WM_RELAY_FWD_BODY,
	       dgram + WM_RELAY_FWD_BODY + body_len - WM_TAG_SIZE, WM_TAG_SIZE);
	tmp[TAIL_AD - 2] = (uint8_t)(body_len >> 8);
	tmp[TAIL_AD - 1] = (uint8_t)body_len;
	*ad_len = TAIL_AD;
	return tmp;
}

size_t wm_relay_fwd_seal(struct wm_session *s, uint8_t *dgram,
			 enum wm_relay_frame_type type,
			 const uint8_t key[WM_KEY_SIZE], size_t body_len,
			 uint64_t now)
{
	const uint8_t *body = dgram + WM_RELAY_FWD_BODY, *ad;
	uint8_t tmp[TAIL_AD];
	uint32_t idx;
	uint64_t counter, le;
	size_t ad_len;

	if (!wm_session_can_send(s, now) || body_len > WM_RELAY_MAX_BODY)
		return 0;
	counter = s->send_counter++;
	memcpy(dgram, WM_RELAY_MAGIC_V2, WM_RELAY_MAGIC_LEN);
	dgram[OFF_TYPE] = WM_MSG_DATA;
	/* Only the relay may lean on the body's own tag: the receiving
	 * agent checks it; the relay could not. */
	dgram[OFF_FLAGS] = type == WM_RELAY_RECV && wg_data(body, body_len)
				   ? WM_RELAY_FWD_FLAG_TAIL : 0;
	dgram[OFF_FLAGS + 1] = dgram[OFF_FLAGS + 2] = 0;
	idx = htole32(s->kp.remote_index);
	memcpy(dgram + OFF_INDEX, &idx, 4);
	le = htole64(counter);
	memcpy(dgram + OFF_COUNTER, &le, 8);
	dgram[OFF_FRAME] = (uint8_t)type;
	memmove(dgram + OFF_KEY, key, WM_KEY_SIZE);
	ad = covered(dgram, body_len, tmp, &ad_len);
	wm_aead_seal(dgram + WM_RELAY_FWD_BODY + body_len, NULL, 0, ad, ad_len,
		     counter, s->kp.send_key);
	return WM_RELAY_FWD_BODY + body_len + WM_TAG_SIZE;
}

enum wm_rx_result wm_relay_fwd_open(struct wm_session *s, const uint8_t *dgram,
				    size_t len, enum wm_relay_frame_type type,
				    uint64_t now, struct wm_relay_frame *f)
{
	const uint8_t *ad, *body = dgram + WM_RELAY_FWD_BODY;
	uint8_t tmp[TAIL_AD], none[1];
	uint64_t counter;
	size_t body_len, ad_len;
	uint8_t flags;

	if (len < WM_RELAY_FWD_MIN || len > WM_RELAY_FWD_MAX ||
	    !wm_relay_is_fwd(dgram, len) || dgram[OFF_TYPE] != WM_MSG_DATA ||
	    dgram[OFF_FLAGS + 1] || dgram[OFF_FLAGS + 2] ||
	    dgram[OFF_FRAME] != type)
		return WM_RX_TOO_SHORT;
	body_len = len - WM_RELAY_FWD_MIN;
	flags = dgram[OFF_FLAGS];
	/* The tail flag is the relay's, and only for a body whose own tag
	 * covers the rest. */
	if ((flags & ~WM_RELAY_FWD_FLAG_TAIL) ||
	    (flags && (type != WM_RELAY_RECV || !wg_data(body, body_len))))
		return WM_RX_TOO_SHORT;
	if (!wm_session_can_receive(s, now))
		return WM_RX_EXPIRED;
	memcpy(&counter, dgram + OFF_COUNTER, 8);
	counter = le64toh(counter);
	ad = covered(dgram, body_len, tmp, &ad_len);
	if (!wm_aead_open(none, body + body_len, WM_TAG_SIZE, ad, ad_len,
			  counter, s->kp.recv_key))
		return WM_RX_BAD_AUTH;
	/* Only now, with the frame proven authentic. */
	if (!wm_replay_check(&s->replay, counter))
		return WM_RX_REPLAY;
	f->type = type;
	memcpy(f->key, dgram + OFF_KEY, WM_KEY_SIZE);
	f->body = body;
	f->body_len = body_len;
	return WM_RX_OK;
}
