/*
 * session.h - one WireGuard session: a keypair from a completed
 * handshake, its send counter and its receive replay window. The same
 * type serves an agent's peers, the relay server's clients and the
 * agent's session with its relay.
 *
 * Pure: time comes in as an argument, nothing here does I/O.
 */
#ifndef WM_SESSION_H
#define WM_SESSION_H

#include "agent/wg/noise.h"
#include "agent/wg/replay.h"
#include "agent/wg/transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_session {
	struct wm_keypair kp;
	uint64_t send_counter;
	struct wm_replay replay;
	bool valid;
};

/* Starts a session from a fresh keypair (copied; the caller wipes its). */
void wm_session_start(struct wm_session *s, const struct wm_keypair *kp);
/* Wipes keys and window; the session is invalid afterwards. */
void wm_session_wipe(struct wm_session *s);

/* True while the session may seal: valid, younger than REJECT_AFTER_TIME,
 * and under REJECT_AFTER_MESSAGES. NULL-safe. */
bool wm_session_can_send(const struct wm_session *s, uint64_t now_ns);
/* True while packets under it may still be accepted (REJECT_AFTER_TIME). */
bool wm_session_can_receive(const struct wm_session *s, uint64_t now_ns);

/* Seals packet[0..len) into out (see wm_transport_seal for overlap and
 * padding) with the next counter. Returns the message length, or 0 when
 * the session may not send (wm_session_can_send is false). */
size_t wm_session_seal(struct wm_session *s, uint8_t *out,
		       const uint8_t *packet, size_t len, size_t mtu,
		       uint64_t now_ns);

/* Opens a data message in place (decrypt first, then the replay window).
 * WM_RX_EXPIRED when the session is invalid or too old to receive. */
enum wm_rx_result wm_session_open(struct wm_session *s, uint8_t *msg,
				  size_t len, uint64_t now_ns, uint8_t **plain,
				  size_t *plain_len);

#endif
