/* See stun.h. */
#include "agent/nat/stun.h"

#include <string.h>

enum {
	ATTR_MAPPED_ADDRESS = 0x0001,
	ATTR_RESPONSE_ADDRESS = 0x0002, /* RFC 3489: never honoured */
	ATTR_CHANGE_REQUEST = 0x0003,
	ATTR_SOURCE_ADDRESS = 0x0004,   /* RFC 3489 */
	ATTR_CHANGED_ADDRESS = 0x0005,  /* RFC 3489 */
	ATTR_USERNAME = 0x0006,
	ATTR_MESSAGE_INTEGRITY = 0x0008,
	ATTR_ERROR_CODE = 0x0009,
	ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	ATTR_REFLECTED_FROM = 0x000B,   /* RFC 3489 */
	ATTR_REALM = 0x0014,
	ATTR_NONCE = 0x0015,
	ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	ATTR_PASSWORD_ALGORITHM = 0x001D,
	ATTR_USERHASH = 0x001E,
	ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	ATTR_PRIORITY = 0x0024,      /* ICE (RFC 8445) */
	ATTR_USE_CANDIDATE = 0x0025, /* ICE */
	ATTR_SOFTWARE = 0x8022,
	ATTR_FINGERPRINT = 0x8028,
	ATTR_RESPONSE_ORIGIN = 0x802B,  /* RFC 5780 */
	ATTR_OTHER_ADDRESS = 0x802C,    /* RFC 5780 */
};

#define FINGERPRINT_XOR 0x5354554eu
#define SOFTWARE "wiremesh"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t wm_stun_crc32(const void *buf, size_t len)
{
	/* Reflected polynomial 0xEDB88320, a nibble at a time: a 16-entry
	 * table is plenty for messages of a hundred bytes. */
	static const uint32_t t[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
		0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ t[crc & 15];
		crc = (crc >> 4) ^ t[crc & 15];
	}
	return crc ^ 0xffffffffu;
}

bool wm_stun_is_stun(const uint8_t *buf, size_t len)
{
	return len >= WM_STUN_HEADER_LEN && (buf[0] & 0xc0) == 0 &&
	       get32(buf + 4) == WM_STUN_MAGIC && (get16(buf + 2) & 3) == 0;
}

bool wm_stun_is_classic_request(const uint8_t *buf, size_t len)
{
	return len >= WM_STUN_HEADER_LEN && get16(buf) == WM_STUN_BINDING_REQUEST &&
	       (size_t)get16(buf + 2) + WM_STUN_HEADER_LEN == len &&
	       (get16(buf + 2) & 3) == 0 && get32(buf + 4) != WM_STUN_MAGIC;
}

/* Required attributes whose meaning we know, even where we ignore them:
 * a request or response carrying only these is one we understand. */
static bool known_required(uint16_t type)
{
	switch (type) {
	case ATTR_MAPPED_ADDRESS:
	case ATTR_RESPONSE_ADDRESS:
	case ATTR_CHANGE_REQUEST:
	case ATTR_SOURCE_ADDRESS:
	case ATTR_CHANGED_ADDRESS:
	case ATTR_REFLECTED_FROM:
	case ATTR_USERNAME:
	case ATTR_MESSAGE_INTEGRITY:
	case ATTR_ERROR_CODE:
	case ATTR_UNKNOWN_ATTRIBUTES:
	case ATTR_REALM:
	case ATTR_NONCE:
	case ATTR_MESSAGE_INTEGRITY_SHA256:
	case ATTR_PASSWORD_ALGORITHM:
	case ATTR_USERHASH:
	case ATTR_XOR_MAPPED_ADDRESS:
	case ATTR_PRIORITY:
	case ATTR_USE_CANDIDATE:
		return true;
	}
	return false;
}

/* Decodes a (XOR-)MAPPED-ADDRESS value. An unknown family is ignored
 * (false with *ok kept); a known family with the wrong length is
 * malformed (*ok = false). */
static bool decode_address(union wm_sockaddr *out, const uint8_t *v,
			   size_t vlen, bool xor, const uint8_t *hdr,
			   bool *ok)
{
	uint8_t mask[16];
	uint16_t port;

	if (vlen < 4) {
		*ok = false;
		return false;
	}
	memcpy(mask, hdr + 4, 16); /* cookie || txid */
	port = get16(v + 2);
	if (xor)
		port ^= (uint16_t)(WM_STUN_MAGIC >> 16);
	memset(out, 0, sizeof(*out));
	if (v[1] == 1) {
		if (vlen != 8) {
			*ok = false;
			return false;
		}
		out->in.sin_family = AF_INET;
		out->in.sin_port = htons(port);
		for (int i = 0; i < 4; i++)
			((uint8_t *)&out->in.sin_addr)[i] =
				(uint8_t)(v[4 + i] ^ (xor ? mask[i] : 0));
		return true;
	}
	if (v[1] == 2) {
		if (vlen != 20) {
			*ok = false;
			return false;
		}
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(port);
		for (int i = 0; i < 16; i++)
			out->in6.sin6_addr.s6_addr[i] =
				(uint8_t)(v[4 + i] ^ (xor ? mask[i] : 0));
		return true;
	}
	out->sa.sa_family = AF_UNSPEC;
	return false;
}

bool wm_stun_parse(struct wm_stun_msg *m, const uint8_t *buf, size_t len)
{
	size_t off = WM_STUN_HEADER_LEN;
	bool after_integrity = false, have_xor = false;

	memset(m, 0, sizeof(*m));
	m->classic = wm_stun_is_classic_request(buf, len);
	if ((!m->classic && !wm_stun_is_stun(buf, len)) ||
	    (size_t)get16(buf + 2) + WM_STUN_HEADER_LEN != len)
		return false;
	m->type = get16(buf);
	memcpy(m->id_head, buf + 4, sizeof(m->id_head));
	memcpy(m->txid, buf + 8, WM_STUN_TXID_LEN);
	while (off < len) {
		uint16_t type, vlen;
		size_t padded;
		const uint8_t *v;

		if (m->has_fingerprint || len - off < 4)
			return false; /* FINGERPRINT must be last */
		type = get16(buf + off);
		vlen = get16(buf + off + 2);
		padded = ((size_t)vlen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return false;
		v = buf + off + 4;
		if (type == ATTR_FINGERPRINT) {
			if (vlen != 4 ||
			    (wm_stun_crc32(buf, off) ^ FINGERPRINT_XOR) != get32(v))
				return false;
			m->has_fingerprint = true;
		} else if (type == ATTR_MESSAGE_INTEGRITY) {
			if (vlen != 20 || after_integrity)
				return false;
			m->has_integrity = true;
			after_integrity = true;
		} else if (type == ATTR_MESSAGE_INTEGRITY_SHA256) {
			if (vlen < 16 || vlen > 32 || vlen % 4)
				return false;
			after_integrity = true;
		} else if (after_integrity) {
			/* not covered by the integrity: ignored */
		} else if (type == ATTR_XOR_MAPPED_ADDRESS ||
			   (type == ATTR_MAPPED_ADDRESS && !have_xor)) {
			bool ok = true, xor = type == ATTR_XOR_MAPPED_ADDRESS;
			union wm_sockaddr a;

			if (decode_address(&a, v, vlen, xor, buf, &ok)) {
				m->mapped = a;
				m->has_mapped = true;
				have_xor = xor;
			} else if (!ok) {
				return false;
			}
		} else if (type == ATTR_MAPPED_ADDRESS) {
			if (vlen != 8 && vlen != 20)
				return false;
		} else if (type == ATTR_CHANGE_REQUEST) {
			if (vlen != 4)
				return false;
			m->change = get32(v);
		} else if (type == ATTR_OTHER_ADDRESS ||
			   type == ATTR_CHANGED_ADDRESS) {
			bool ok = true;
			union wm_sockaddr a;

			if (decode_address(&a, v, vlen, false, buf, &ok)) {
				m->other = a;
				m->has_other = true;
			} else if (!ok) {
				return false;
			}
		} else if (type < 0x8000 && !known_required(type)) {
			if (m->n_unknown < WM_STUN_MAX_UNKNOWN)
				m->unknown[m->n_unknown] = type;
			m->n_unknown++;
		}
		off += 4 + padded;
	}
	return true;
}

static void put_header(uint8_t *out, uint16_t type,
		       const uint8_t txid[WM_STUN_TXID_LEN])
{
	put16(out, type);
	put16(out + 2, 0);
	put32(out + 4, WM_STUN_MAGIC);
	memcpy(out + 8, txid, WM_STUN_TXID_LEN);
}

/* Appends FINGERPRINT at off (the length field must cover it before the
 * CRC is taken). Returns the final length. */
static size_t put_fingerprint(uint8_t *out, size_t off)
{
	put16(out + 2, (uint16_t)(off + 8 - WM_STUN_HEADER_LEN));
	put16(out + off, ATTR_FINGERPRINT);
	put16(out + off + 2, 4);
	put32(out + off + 4, wm_stun_crc32(out, off) ^ FINGERPRINT_XOR);
	return off + 8;
}

static size_t put_software(uint8_t *out, size_t off)
{
	_Static_assert(sizeof(SOFTWARE) - 1 == 8, "SOFTWARE needs no padding");
	put16(out + off, ATTR_SOFTWARE);
	put16(out + off + 2, sizeof(SOFTWARE) - 1);
	memcpy(out + off + 4, SOFTWARE, sizeof(SOFTWARE) - 1);
	return off + 4 + sizeof(SOFTWARE) - 1;
}

size_t wm_stun_build_request(uint8_t out[WM_STUN_REQUEST_LEN],
			     const uint8_t txid[WM_STUN_TXID_LEN])
{
	put_header(out, WM_STUN_BINDING_REQUEST, txid);
	return put_fingerprint(out, WM_STUN_HEADER_LEN);
}

bool wm_stun_parse_response(const uint8_t *buf, size_t len,
			    const uint8_t txid[WM_STUN_TXID_LEN],
			    union wm_sockaddr *mapped)
{
	struct wm_stun_msg m;

	if (!wm_stun_parse(&m, buf, len) ||
	    m.type != WM_STUN_BINDING_SUCCESS ||
	    memcmp(m.txid, txid, WM_STUN_TXID_LEN) != 0 || m.n_unknown ||
	    !m.has_mapped)
		return false;
	*mapped = m.mapped;
	return true;
}

/* The address bytes of a (v4-mapped IPv6 shown as IPv4); 0 for a
 * family STUN cannot carry. */
static size_t address_bytes(const union wm_sockaddr *a, const uint8_t **addr,
			    uint16_t *port)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (a->sa.sa_family == AF_INET) {
		*addr = (const uint8_t *)&a->in.sin_addr;
		*port = ntohs(a->in.sin_port);
		return 4;
	}
	if (a->sa.sa_family != AF_INET6)
		return 0;
	*addr = a->in6.sin6_addr.s6_addr;
	*port = ntohs(a->in6.sin6_port);
	if (memcmp(*addr, v4mapped, sizeof(v4mapped)) == 0) {
		*addr += 12;
		return 4;
	}
	return 16;
}

/* Appends an address attribute at off; mask (cookie || txid) XORs it
 * when not NULL. The caller checked the room: 4 + 4 + 16 at most. */
static size_t put_address(uint8_t *out, size_t off, uint16_t type,
			  const uint8_t *addr, size_t alen, uint16_t port,
			  const uint8_t *mask)
{
	uint8_t *v = out + off + 4;

	put16(out + off, type);
	put16(out + off + 2, (uint16_t)(4 + alen));
	v[0] = 0;
	v[1] = alen == 4 ? 1 : 2;
	put16(v + 2, mask ? port ^ (uint16_t)(WM_STUN_MAGIC >> 16) : port);
	for (size_t i = 0; i < alen; i++)
		v[4 + i] = addr[i] ^ (mask ? mask[i] : 0);
	return off + 4 + 4 + alen;
}

size_t wm_stun_build_answer(uint8_t *out, size_t cap,
			    const struct wm_stun_msg *req,
			    const union wm_sockaddr *src,
			    const union wm_sockaddr *other)
{
	const uint8_t *addr, *oaddr = NULL;
	uint8_t mask[16];
	size_t alen, olen = 0, off = WM_STUN_HEADER_LEN;
	uint16_t port, oport = 0;

	alen = address_bytes(src, &addr, &port);
	if (other) {
		olen = address_bytes(other, &oaddr, &oport);
		if (!olen)
			return 0;
	}
	if (!alen || cap < WM_STUN_HEADER_LEN + 8 + alen +
				   (olen ? 8 + olen : 0) + 12 + 8)
		return 0;
	put_header(out, WM_STUN_BINDING_SUCCESS, req->txid);
	memcpy(out + 4, req->id_head, 4);
	memcpy(mask, req->id_head, 4);
	memcpy(mask + 4, req->txid, WM_STUN_TXID_LEN);
	if (req->classic) {
		/* RFC 5389 section 12: what a classic client understands; it
		 * would refuse XOR-MAPPED-ADDRESS as unknown and required. */
		off = put_address(out, off, ATTR_MAPPED_ADDRESS, addr, alen,
				  port, NULL);
		if (olen)
			off = put_address(out, off, ATTR_CHANGED_ADDRESS,
					  oaddr, olen, oport, NULL);
		off = put_software(out, off);
		put16(out + 2, (uint16_t)(off - WM_STUN_HEADER_LEN));
		return off;
	}
	off = put_address(out, off, ATTR_XOR_MAPPED_ADDRESS, addr, alen, port,
			  mask);
	if (olen)
		off = put_address(out, off, ATTR_OTHER_ADDRESS, oaddr, olen,
				  oport, NULL);
	off = put_software(out, off);
	return put_fingerprint(out, off);
}

size_t wm_stun_build_response(uint8_t *out, size_t cap,
			      const uint8_t txid[WM_STUN_TXID_LEN],
			      const union wm_sockaddr *src)
{
	struct wm_stun_msg req = { .type = WM_STUN_BINDING_REQUEST };

	put32(req.id_head, WM_STUN_MAGIC);
	memcpy(req.txid, txid, WM_STUN_TXID_LEN);
	return wm_stun_build_answer(out, cap, &req, src, NULL);
}

size_t wm_stun_build_unknown_error(uint8_t *out, size_t cap,
				   const struct wm_stun_msg *m)
{
	static const char reason[] = "Unknown Attribute"; /* 17: pad 3 */
	unsigned n = m->n_unknown < WM_STUN_MAX_UNKNOWN ? m->n_unknown
							: WM_STUN_MAX_UNKNOWN;
	size_t off = WM_STUN_HEADER_LEN, rlen = sizeof(reason) - 1;
	size_t ulen = 2 * (size_t)n;

	/* Everything below writes within this many bytes; the fuzzer found
	 * the constant once too small (tests/fuzz/crashes/stun-1). */
	_Static_assert(WM_STUN_ERROR_MAX == WM_STUN_HEADER_LEN + 4 + 24 + 4 +
			       2 * WM_STUN_MAX_UNKNOWN + 12 + 8,
		       "error response size");
	if (cap < WM_STUN_ERROR_MAX)
		return 0;
	put_header(out, WM_STUN_BINDING_ERROR, m->txid);
	memcpy(out + 4, m->id_head, 4);
	put16(out + off, ATTR_ERROR_CODE);
	put16(out + off + 2, (uint16_t)(4 + rlen));
	out[off + 4] = 0;
	out[off + 5] = 0;
	out[off + 6] = 4;  /* class: 4xx */
	out[off + 7] = 20; /* number: 420 */
	memcpy(out + off + 8, reason, rlen);
	off += 4 + ((4 + rlen + 3) & ~(size_t)3);
	memset(out + off - 3, 0, 3);
	put16(out + off, ATTR_UNKNOWN_ATTRIBUTES);
	put16(out + off + 2, (uint16_t)ulen);
	for (unsigned i = 0; i < n; i++)
		put16(out + off + 4 + 2 * i, m->unknown[i]);
	memset(out + off + 4 + ulen, 0, ((ulen + 3) & ~(size_t)3) - ulen);
	off += 4 + ((ulen + 3) & ~(size_t)3);
	off = put_software(out, off);
	if (m->classic) {
		/* RFC 3489 has no FINGERPRINT, as in wm_stun_build_answer */
		put16(out + 2, (uint16_t)(off - WM_STUN_HEADER_LEN));
		return off;
	}
	return put_fingerprint(out, off);
}
