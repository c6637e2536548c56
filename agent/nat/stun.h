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
 *   0x0003 CHANGE-REQUEST       flags: 0x04 change IP, 0x02 change port
 *   0x0005 CHANGED-ADDRESS      RFC 3489's name for OTHER-ADDRESS
 *   0x0020 XOR-MAPPED-ADDRESS   the same, port ^ 0x2112, addr ^ cookie
 *                               (v6: ^ cookie || txid)
 *   0x0008 MESSAGE-INTEGRITY    HMAC-SHA1, 20 bytes: skipped, never checked
 *   0x0009 ERROR-CODE, 0x000A UNKNOWN-ATTRIBUTES (the 420 answer)
 *   0x8022 SOFTWARE             "wiremesh" in what we send
 *   0x8028 FINGERPRINT          CRC-32 of everything before it, XOR
 *                               0x5354554e; always the last attribute
 *   0x802C OTHER-ADDRESS        (RFC 5780) where the server answers a
 *                               CHANGE-REQUEST from: a second port here
 *
 * Classic clients (RFC 3489) send no magic cookie: their transaction ID
 * is the 16 bytes at 4..19. A classic Binding request is told apart by
 * its first two bytes 0x00 0x01 and a length field that matches the
 * datagram; it is answered with MAPPED-ADDRESS (RFC 5389 section 12),
 * echoing all 16 ID bytes.
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
	/* ... + OTHER-ADDRESS (v6) */
	WM_STUN_ANSWER_MAX = WM_STUN_RESPONSE_MAX + 24,
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

enum {
	WM_STUN_CHANGE_IP = 0x04,
	WM_STUN_CHANGE_PORT = 0x02,
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
	bool classic;          /* RFC 3489: no magic cookie */
	uint8_t id_head[4];    /* bytes 4..7: the cookie, or classic ID */
	uint32_t change;       /* CHANGE-REQUEST flags (0 when absent) */
	bool has_other;        /* OTHER-ADDRESS or CHANGED-ADDRESS */
	union wm_sockaddr other;
};

/* Cheap demux test: at least a header, top two bits zero, the magic
 * cookie at bytes 4-7 and a length that is a multiple of 4. */
bool wm_stun_is_stun(const uint8_t *buf, size_t len);

/* An RFC 3489 Binding request: 0x0001, a length field that matches len,
 * and no magic cookie (that one is wm_stun_is_stun's). */
bool wm_stun_is_classic_request(const uint8_t *buf, size_t len);

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

/* Writes the success response to request req from src, as its kind of
 * client expects: XOR-MAPPED-ADDRESS and, when other is not NULL,
 * OTHER-ADDRESS for RFC 8489 clients; MAPPED-ADDRESS and CHANGED-ADDRESS
 * for classic ones. Returns the length, or 0 (cap too small, src or
 * other of no known family). */
size_t wm_stun_build_answer(uint8_t *out, size_t cap,
			    const struct wm_stun_msg *req,
			    const union wm_sockaddr *src,
			    const union wm_sockaddr *other);

/* Writes the 420 (Unknown Attribute) error response to a request m that
 * had unknown required attributes. Returns the length, or 0 if cap is
 * too small. */
size_t wm_stun_build_unknown_error(uint8_t *out, size_t cap,
				   const struct wm_stun_msg *m);

#endif
