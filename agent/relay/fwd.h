/*
 * fwd.h - the relay's forwarding frame ("WMR" 0x02): a relayed packet is
 * authenticated hop by hop, not encrypted again, because the body is
 * already the agents' own WireGuard ciphertext.
 *
 *   off  len
 *     0    4  "WMR" 0x02
 *     4    1  0x04 (a data message of the agent<->relay session)
 *     5    1  flags: 0x01 "the tag covers the body's tail" (RECV only)
 *     6    2  0
 *     8    4  receiver index (LE): the receiving end's index of the session
 *    12    8  counter (LE): the session's send counter, which its sealed
 *             ("WMR" 0x01) messages share, so no nonce is used twice
 *    20    1  frame type: SEND (1, agent->relay) or RECV (2, relay->agent)
 *    21   32  key: SEND the destination, RECV the source the relay
 *             authenticated
 *    53    n  body: the agent's WireGuard message, byte for byte
 *  53+n   16  tag
 *
 * The layout is the sealed frame's ("WMR" 0x01 | data header | type | key
 * | body | tag) with the frame left in the clear, so the relay turns one
 * into the other in place. tag = ChaCha20-Poly1305 under the session's
 * key with the counter as nonce, an empty plaintext and as associated
 * data:
 *   - SEND, and RECV without the flag: bytes 0 .. 53+n (all before the tag);
 *   - RECV with the flag (the body is a WireGuard transport data message,
 *     type 4 and at least 32 bytes): bytes 0..53, then the body's last 16
 *     bytes (its own AEAD tag under the two agents' keys, which binds
 *     the rest of it for the receiver), then n as 2 bytes big-endian.
 * So the relay makes one Poly1305 pass over a packet (checking the SEND)
 * and the receiver none beyond the header; the sender one.
 *
 * The receiver checks the tag, then the session's replay window (the
 * sealed messages' window: one counter space); a tag that fails never
 * moves the window.
 */
#ifndef WM_RELAY_FWD_H
#define WM_RELAY_FWD_H

#include "agent/relay/proto.h"
#include "agent/wg/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WM_RELAY_MAGIC_V2 "WMR\x02"
enum {
	WM_RELAY_FWD_FLAG_TAIL = 0x01,
	WM_RELAY_FWD_BODY = WM_RELAY_MAGIC_LEN + 16 + WM_RELAY_FRAME_HDR, /* 53 */
	WM_RELAY_FWD_MIN = WM_RELAY_FWD_BODY + 16,
	WM_RELAY_FWD_MAX = WM_RELAY_FWD_MIN + WM_RELAY_MAX_BODY,
};
_Static_assert((int)WM_RELAY_FWD_MIN == (int)WM_RELAY_OVERHEAD,
	       "a forwarding frame is as long as a sealed one");

/* True when buf has the forwarding frame's magic ("WMR" 0x02). */
bool wm_relay_is_fwd(const uint8_t *buf, size_t len);

/* Builds a frame around the body of body_len bytes already at
 * dgram + WM_RELAY_FWD_BODY, under s's next counter: SEND covers it all;
 * RECV covers a WireGuard data body's tail only. Returns the datagram
 * length, or 0 when s may not send (wm_session_can_send). */
size_t wm_relay_fwd_seal(struct wm_session *s, uint8_t *dgram,
			 enum wm_relay_frame_type type,
			 const uint8_t key[WM_KEY_SIZE], size_t body_len,
			 uint64_t now_ns);

/* Checks a frame of the expected type (SEND at the relay, RECV at an
 * agent) under s: layout, tag, then the replay window. On WM_RX_OK *f
 * points into dgram. WM_RX_TOO_SHORT for a malformed frame. */
enum wm_rx_result wm_relay_fwd_open(struct wm_session *s, const uint8_t *dgram,
				    size_t len, enum wm_relay_frame_type type,
				    uint64_t now_ns, struct wm_relay_frame *f);

#endif
