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
 * A client that reads forwarding frames ("WMR" 0x02, relay/fwd.h) says so
 * in its PINGs: body = nonce | WM_RELAY_OFFER_FWD (9 bytes). A relay that
 * speaks them answers nonce | WM_RELAY_ACCEPT_FWD and from then on sends
 * that session's RECVs as forwarding frames; the client sends its SENDs
 * so once it has seen the answer on its current session. A relay of the
 * first version echoes the 9 bytes unchanged (the client stays on sealed
 * frames), a client of the first version sends 8-byte PINGs (the relay
 * keeps sealing to it): each side keeps talking to the other version.
 * GONE, PING and PONG stay sealed frames.
 *
 * Relay sessions are never padded (seal with mtu = length): a frame's body
 * length is what is left of the decrypted datagram, and the bodies are
 * already padded WireGuard messages.
 *
 * The opaque bytes are agent-to-agent WireGuard or disco messages, already
 * sealed end to end: the relay authenticates frames hop by hop (sealed,
 * or as forwarding frames, relay/fwd.h) and never holds a key that opens
 * them.
 *
 * One datagram is not a WireGuard message: the relay's answer to a
 * transport data message whose receiver index it does not know (it
 * restarted, or forgot an idle client):
 *
 *     "WMR" 0x01 | 0x10 | 0 0 0 | receiver index (4, as it came)
 *
 * 12 bytes, unauthenticated, laid out like a data message's header (type
 * 0x10 is no WireGuard type), never larger than the 36 or more bytes that
 * trigger it, sent only back on the path the trigger came from, and rate
 * limited per source and overall (relay/server.h). A client that sees its
 * current session's index in it starts a new handshake at once (at most
 * one a second), but keeps the session until the handshake completes: a
 * forged answer buys an attacker one rate-limited handshake, nothing more.
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
	/* "unknown session": magic, type, 3 zero bytes, receiver index */
	WM_RELAY_MSG_UNKNOWN_SESSION = 0x10,
	WM_RELAY_UNKNOWN_SESSION_LEN = WM_RELAY_MAGIC_LEN + 8,
	/* The ninth byte of a PING, and of the PONG that accepts it. */
	WM_RELAY_OFFER_FWD = 0x02,
	WM_RELAY_ACCEPT_FWD = 0x82,
	WM_RELAY_PING_LEN = 8,
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

/* True when buf starts with a relay magic: "WMR" 0x01 (handshakes and
 * sealed frames) or "WMR" 0x02 (forwarding frames, relay/fwd.h). */
bool wm_relay_is_relay(const uint8_t *buf, size_t len);
/* True when buf starts with "WMR" 0x01. */
bool wm_relay_is_sealed(const uint8_t *buf, size_t len);

/* Writes type|key|body at out (room for WM_RELAY_FRAME_HDR + body_len).
 * body may already sit at out + WM_RELAY_FRAME_HDR. Returns the length. */
size_t wm_relay_frame_build(uint8_t *out, enum wm_relay_frame_type type,
			    const uint8_t key[WM_KEY_SIZE], const uint8_t *body,
			    size_t body_len);

/* Writes the "unknown session" answer for receiver index bytes idx (the
 * 4 bytes as they sit in the data message) at out (room for
 * WM_RELAY_UNKNOWN_SESSION_LEN). Returns the length. */
size_t wm_relay_unknown_session_build(uint8_t *out, const uint8_t idx[4]);

/* True when buf is an "unknown session" answer; *receiver is the index
 * it names, in host order (as wm_transport_receiver reads it). */
bool wm_relay_unknown_session_parse(const uint8_t *buf, size_t len,
				    uint32_t *receiver);

/* Parses a decrypted frame; body points into buf. False when malformed
 * (unknown type, short, or oversized). */
bool wm_relay_frame_parse(struct wm_relay_frame *f, const uint8_t *buf,
			  size_t len);

#endif
