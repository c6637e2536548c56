/* See session.h. */
#include "agent/wg/session.h"
#include "agent/wg/clock.h"
#include "crypto/ct.h"

#include <string.h>

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

void wm_session_start(struct wm_session *s, const struct wm_keypair *kp)
{
	memset(s, 0, sizeof(*s));
	s->kp = *kp;
	wm_replay_init(&s->replay);
	s->valid = true;
}

void wm_session_wipe(struct wm_session *s)
{
	wm_memzero(s, sizeof(*s));
}

bool wm_session_can_send(const struct wm_session *s, uint64_t now_ns)
{
	return s && s->valid &&
	       wm_since(now_ns, s->kp.birth_ns) < SEC(WM_REJECT_AFTER_TIME) &&
	       s->send_counter < WM_REJECT_AFTER_MESSAGES;
}

bool wm_session_can_receive(const struct wm_session *s, uint64_t now_ns)
{
	return s && s->valid &&
	       wm_since(now_ns, s->kp.birth_ns) < SEC(WM_REJECT_AFTER_TIME);
}

size_t wm_session_seal(struct wm_session *s, uint8_t *out,
		       const uint8_t *packet, size_t len, size_t mtu,
		       uint64_t now_ns)
{
	if (!wm_session_can_send(s, now_ns))
		return 0;
	return wm_transport_seal(out, &s->kp, s->send_counter++, packet, len,
				 mtu);
}

enum wm_rx_result wm_session_open(struct wm_session *s, uint8_t *msg,
				  size_t len, uint64_t now_ns, uint8_t **plain,
				  size_t *plain_len)
{
	if (!wm_session_can_receive(s, now_ns))
		return WM_RX_EXPIRED;
	return wm_transport_open(&s->kp, &s->replay, msg, len, plain,
				 plain_len);
}
