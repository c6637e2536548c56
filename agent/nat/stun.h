/*
 * stun.h - the STUN Binding transaction (RFC 8489): the request an agent
 * sends to learn its reflexive address, and the answer a relay gives.
 *
 * Wire format (all integers big-endian):
 *
 *     type (2) | length (2) | magic cookie 0x2112A442 (4) | txid (12)
 *     then attributes: type (2) | length (2) | value, padded to 4 bytes
 *
 * type 0x0001 is a Binding request, 0x0101 a success response, 0x0111 an
 * error response; the two top bits of a STUN message are always zero,
 * which with the cookie is what tells STUN apart on a shared socket.
 * Attributes used here:
 *
 *   0x0001 MAPPED-ADDRESS       0 | family (1 = v4, 2 = v6) | port | addr
 *   0x0020 XOR-MAPPED-ADDRESS   the same, port ^ 0x2112, addr ^ cookie
 *                               (v6: ^ cookie || txid)
 *   0x0008 MESSAGE-INTEGRITY    HMAC-SHA1, 20 bytes: skipped, never checked
 *   0x0009 ERROR-CODE, 0x000A UNKNOWN-ATTRIBUTES (the 420 answer)
 *   0x8022 SOFTWARE             "wiremesh" in what we send
 *   0x8028 FINGERPRINT          CRC-32 of everything before it, XOR
 *                               0x5354554e; always the last attribute
 *
 * Attributes after MESSAGE-INTEGRITY other than FINGERPRINT (and
 * MESSAGE-INTEGRITY-SHA256) are ignored, as the RFC asks. Pure: byte
 * buffers in and out; the caller picks transaction ids.
 */
#ifndef WM_STUN_H
#define WM_STUN_H

#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WM_STUN_MAGIC 0x2112A442u

enum {
	WM_STUN_HEADER_LEN = 20,
	WM_STUN_TXID_LEN = 12,
	/* header + FINGERPRINT */
	WM_STUN_REQUEST_LEN = WM_STUN_HEADER_LEN + 8,
	/* header + XOR-MAPPED-ADDRESS (v6) + SOFTWARE + FINGERPRINT */
	WM_STUN_RESPONSE_MAX = WM_STUN_HEADER_LEN + 24 + 12 + 8,
	/* the most unknown attributes a parse remembers (and a 420 lists) */
	WM_STUN_MAX_UNKNOWN = 4,
	/* header + ERROR-CODE (4 + 4 + "Unknown Attribute" padded to 20) +
	 * UNKNOWN-ATTRIBUTES + SOFTWARE + FINGERPRINT */
	WM_STUN_ERROR_MAX = WM_STUN_HEADER_LEN + 4 + 24 +
			    4 + 2 * WM_STUN_MAX_UNKNOWN + 12 + 8,
};

enum wm_stun_type {
	WM_STUN_BINDING_REQUEST = 0x0001,
	WM_STUN_BINDING_INDICATION = 0x0011,
	WM_STUN_BINDING_SUCCESS = 0x0101,
	WM_STUN_BINDING_ERROR = 0x0111,
};

/* What wm_stun_parse() found in a well-formed message. */
struct wm_stun_msg {
	uint16_t type;
	uint8_t txid[WM_STUN_TXID_LEN];
	bool has_fingerprint;  /* present, and it verified */
	bool has_integrity;    /* MESSAGE-INTEGRITY present (not verified) */
	bool has_mapped;       /* XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	union wm_sockaddr mapped;
	/* comprehension-required attributes (type < 0x8000) we do not know */
	uint16_t unknown[WM_STUN_MAX_UNKNOWN];
	unsigned n_unknown;    /* may exceed WM_STUN_MAX_UNKNOWN */
};

/* Cheap demux test: at least a header, top two bits zero, the magic
 * cookie at bytes 4-7 and a length that is a multiple of 4. */
bool wm_stun_is_stun(const uint8_t *buf, size_t len);

/* CRC-32 (IEEE 802.3, as zlib) of buf[0..len). */
uint32_t wm_stun_crc32(const void *buf, size_t len);

/* Checks a whole datagram: header, the length field against len, every
 * attribute's bounds, address attribute sizes, FINGERPRINT last and
 * correct. False on anything malformed; m is filled on true. */
bool wm_stun_parse(struct wm_stun_msg *m, const uint8_t *buf, size_t len);

/* Writes a Binding request with txid and FINGERPRINT into out.
 * Returns WM_STUN_REQUEST_LEN. */
size_t wm_stun_build_request(uint8_t out[WM_STUN_REQUEST_LEN],
			     const uint8_t txid[WM_STUN_TXID_LEN]);

/* True, with *mapped set, when buf is a Binding success response to txid
 * carrying a mapped address and no unknown required attribute. */
bool wm_stun_parse_response(const uint8_t *buf, size_t len,
			    const uint8_t txid[WM_STUN_TXID_LEN],
			    union wm_sockaddr *mapped);

/* Writes the success response to the request txid that came from src
 * (v4-mapped IPv6 is reported as IPv4): XOR-MAPPED-ADDRESS, SOFTWARE,
 * FINGERPRINT. Returns the length, or 0 if cap is too small or src is
 * neither IPv4 nor IPv6. */
size_t wm_stun_build_response(uint8_t *out, size_t cap,
			      const uint8_t txid[WM_STUN_TXID_LEN],
			      const union wm_sockaddr *src);

/* Writes the 420 (Unknown Attribute) error response to a request m that
 * had unknown required attributes. Returns the length, or 0 if cap is
 * too small. */
size_t wm_stun_build_unknown_error(uint8_t *out, size_t cap,
				   const struct wm_stun_msg *m);

#endif
