/* See transport.h. */
#include "agent/wg/transport.h"
#include "crypto/aead.h"

#include <endian.h>
#include <string.h>

size_t wm_transport_sealed_len(size_t len, size_t mtu)
{
	size_t padded = (len + WM_MESSAGE_PADDING - 1) & ~(size_t)(WM_MESSAGE_PADDING - 1);

	if (padded > mtu && len <= mtu)
		padded = mtu;
	if (padded < len)
		padded = len;
	return sizeof(struct wm_msg_data) + padded + WM_TAG_SIZE;
}

size_t wm_transport_seal(uint8_t *out, const struct wm_keypair *kp,
			 uint64_t counter, const uint8_t *packet, size_t len,
			 size_t mtu)
{
	size_t total = wm_transport_sealed_len(len, mtu);
	size_t padded = total - sizeof(struct wm_msg_data) - WM_TAG_SIZE;
	struct wm_msg_data hdr;
	uint8_t *body = out + sizeof(hdr);

	if (len > 0 && body != packet)
		memmove(body, packet, len);
	memset(body + len, 0, padded - len);
	memset(&hdr, 0, sizeof(hdr));
	hdr.header.type = WM_MSG_DATA;
	hdr.receiver_index = htole32(kp->remote_index);
	hdr.counter = htole64(counter);
	memcpy(out, &hdr, sizeof(hdr));
	wm_aead_seal(body, body, padded, NULL, 0, counter, kp->send_key);
	return total;
}

uint32_t wm_transport_receiver(const uint8_t *msg)
{
	uint32_t idx;

	memcpy(&idx, msg + offsetof(struct wm_msg_data, receiver_index),
	       sizeof(idx));
	return le32toh(idx);
}

enum wm_rx_result wm_transport_open(const struct wm_keypair *kp,
				    struct wm_replay *replay, uint8_t *msg,
				    size_t len, uint8_t **plain,
				    size_t *plain_len)
{
	uint64_t counter;
	uint8_t *body = msg + sizeof(struct wm_msg_data);
	size_t blen;

	if (len < WM_MSG_MIN_DATA)
		return WM_RX_TOO_SHORT;
	memcpy(&counter, msg + offsetof(struct wm_msg_data, counter),
	       sizeof(counter));
	counter = le64toh(counter);
	blen = len - sizeof(struct wm_msg_data);
	if (!wm_aead_open(body, body, blen, NULL, 0, counter, kp->recv_key))
		return WM_RX_BAD_AUTH;
	/* Only now, with the packet proven authentic. */
	if (!wm_replay_check(replay, counter))
		return WM_RX_REPLAY;
	*plain = body;
	*plain_len = blen - WM_TAG_SIZE;
	return WM_RX_OK;
}
