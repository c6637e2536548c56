/* See relay/proto.h. */
#include "agent/relay/proto.h"

#include <string.h>

bool wm_relay_is_relay(const uint8_t *buf, size_t len)
{
	return len >= WM_RELAY_MAGIC_LEN &&
	       memcmp(buf, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN - 1) == 0 &&
	       (buf[3] == 0x01 || buf[3] == 0x02);
}

bool wm_relay_is_sealed(const uint8_t *buf, size_t len)
{
	return len >= WM_RELAY_MAGIC_LEN &&
	       memcmp(buf, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN) == 0;
}

size_t wm_relay_frame_build(uint8_t *out, enum wm_relay_frame_type type,
			    const uint8_t key[WM_KEY_SIZE], const uint8_t *body,
			    size_t body_len)
{
	if (body_len && body != out + WM_RELAY_FRAME_HDR)
		memmove(out + WM_RELAY_FRAME_HDR, body, body_len);
	out[0] = (uint8_t)type;
	if (key)
		memcpy(out + 1, key, WM_KEY_SIZE);
	else
		memset(out + 1, 0, WM_KEY_SIZE);
	return WM_RELAY_FRAME_HDR + body_len;
}

bool wm_relay_frame_parse(struct wm_relay_frame *f, const uint8_t *buf,
			  size_t len)
{
	if (len < WM_RELAY_FRAME_HDR || len - WM_RELAY_FRAME_HDR > WM_RELAY_MAX_BODY)
		return false;
	switch (buf[0]) {
	case WM_RELAY_SEND:
	case WM_RELAY_RECV:
	case WM_RELAY_GONE:
	case WM_RELAY_PING:
	case WM_RELAY_PONG:
		break;
	default:
		return false;
	}
	f->type = (enum wm_relay_frame_type)buf[0];
	memcpy(f->key, buf + 1, WM_KEY_SIZE);
	f->body = buf + WM_RELAY_FRAME_HDR;
	f->body_len = len - WM_RELAY_FRAME_HDR;
	return true;
}

size_t wm_relay_unknown_session_build(uint8_t *out, const uint8_t idx[4])
{
	memcpy(out, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	out[WM_RELAY_MAGIC_LEN] = WM_RELAY_MSG_UNKNOWN_SESSION;
	memset(out + WM_RELAY_MAGIC_LEN + 1, 0, 3);
	memmove(out + WM_RELAY_MAGIC_LEN + 4, idx, 4);
	return WM_RELAY_UNKNOWN_SESSION_LEN;
}

bool wm_relay_unknown_session_parse(const uint8_t *buf, size_t len,
				    uint32_t *receiver)
{
	const uint8_t *m = buf + WM_RELAY_MAGIC_LEN;

	if (len != WM_RELAY_UNKNOWN_SESSION_LEN || !wm_relay_is_sealed(buf, len) ||
	    m[0] != WM_RELAY_MSG_UNKNOWN_SESSION || m[1] || m[2] || m[3])
		return false;
	/* little-endian, as WireGuard's receiver index */
	*receiver = (uint32_t)m[4] | (uint32_t)m[5] << 8 |
		    (uint32_t)m[6] << 16 | (uint32_t)m[7] << 24;
	return true;
}
