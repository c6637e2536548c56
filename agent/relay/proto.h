/*
 * proto.h - the wire format between an agent and a relay.
 *
 * The agent authenticates to the relay with the WireGuard handshake itself
 * (noise.c, the relay's static key as responder), so there is no second
 * key-exchange design. Every relay datagram is
 *
 *     "WMR" 0x01 | one WireGuard message (initiation, response, cookie or
 *                  transport data) of the agent<->relay session
 *
 * and the plaintext of a transport data message is one frame:
 *
 *     type (1) | key (32) | body
 *
 *   SEND  (agent->relay)  key = destination agent; body = opaque bytes
 *   RECV  (relay->agent)  key = source agent;      body = the same bytes
 *   GONE  (relay->agent)  key = destination that is not connected
 *   PING / PONG           key = zero; body = 8-byte nonce echoed back
 *
 * Relay sessions are never padded (seal with mtu = length): a frame's body
 * length is what is left of the decrypted datagram, and the bodies are
 * already padded WireGuard messages.
 *
 * The opaque bytes are agent-to-agent WireGuard or disco messages, already
 * sealed end to end: the relay re-seals frames hop by hop and never holds
 * a key that opens them.
 *
 * Over TCP (or TLS) the same datagrams are sent with a 2-byte big-endian
 * length prefix each.
 *
 * Size: a full inner packet of MTU m grows by 32 (WireGuard) and then by
 * WM_RELAY_OVERHEAD on the relay path; see WM_RELAY_PATH_MTU.
 */
#ifndef WM_RELAY_PROTO_H
#define WM_RELAY_PROTO_H

#include "agent/wg/messages.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WM_RELAY_MAGIC "WMR\x01"
enum {
	WM_RELAY_MAGIC_LEN = 4,
	WM_RELAY_FRAME_HDR = 1 + WM_KEY_SIZE,
	/* magic + data header + frame header + tag */
	WM_RELAY_OVERHEAD = WM_RELAY_MAGIC_LEN + 16 + WM_RELAY_FRAME_HDR + 16,
	/* Largest opaque body a frame carries (a WireGuard message of a
	 * 9000-byte inner MTU, with room to spare). */
	WM_RELAY_MAX_BODY = 9216,
	WM_RELAY_TCP_PREFIX = 2,
};

/* 1500 - 40 (IPv6) - 8 (UDP) - 32 (WireGuard) - relay overhead (69),
 * rounded down to a multiple of 16: a full-size packet still fits one
 * 1500-byte datagram on the relay path over IPv6. */
#define WM_RELAY_PATH_MTU 1344
_Static_assert(WM_RELAY_PATH_MTU + 32 + WM_RELAY_OVERHEAD + 48 <= 1500,
	       "default MTU must fit the relay path over IPv6");

enum wm_relay_frame_type {
	WM_RELAY_SEND = 1,
	WM_RELAY_RECV = 2,
	WM_RELAY_GONE = 3,
	WM_RELAY_PING = 4,
	WM_RELAY_PONG = 5,
};

struct wm_relay_frame {
	enum wm_relay_frame_type type;
	uint8_t key[WM_KEY_SIZE];
	const uint8_t *body;
	size_t body_len;
};

/* True when buf starts with the relay magic. */
bool wm_relay_is_relay(const uint8_t *buf, size_t len);

/* Writes type|key|body at out (room for WM_RELAY_FRAME_HDR + body_len).
 * body may already sit at out + WM_RELAY_FRAME_HDR. Returns the length. */
size_t wm_relay_frame_build(uint8_t *out, enum wm_relay_frame_type type,
			    const uint8_t key[WM_KEY_SIZE], const uint8_t *body,
			    size_t body_len);

/* Parses a decrypted frame; body points into buf. False when malformed
 * (unknown type, short, or oversized). */
bool wm_relay_frame_parse(struct wm_relay_frame *f, const uint8_t *buf,
			  size_t len);

#endif
