/* See disco.h for the wire format. */
#include "agent/nat/disco.h"
#include "crypto/blake2s.h"
#include "crypto/ct.h"
#include "crypto/hkdf.h"
#include "crypto/xchacha.h"

#include <string.h>

#define LABEL "wiremesh disco v1"
#define ID_LABEL "wiremesh disco id v2"

bool wm_disco_is_disco(const uint8_t *buf, size_t len)
{
	return len >= WM_DISCO_MAGIC_LEN &&
	       memcmp(buf, WM_DISCO_MAGIC, WM_DISCO_MAGIC_LEN - 1) == 0 &&
	       (buf[3] == 1 || buf[3] == 2);
}

int wm_disco_version(const uint8_t *buf)
{
	return buf[3];
}

const uint8_t *wm_disco_sender(const uint8_t *buf)
{
	return buf + WM_DISCO_MAGIC_LEN;
}

const uint8_t *wm_disco_id(const uint8_t *buf)
{
	return buf + WM_DISCO_MAGIC_LEN;
}

static size_t hdr_len(const uint8_t *buf)
{
	return wm_disco_version(buf) == 2 ? WM_DISCO_HDR_V2 : WM_DISCO_HDR;
}

const uint8_t *wm_disco_nonce(const uint8_t *buf)
{
	return buf + hdr_len(buf) - 24;
}

void wm_disco_key(uint8_t key[32], const uint8_t shared[32])
{
	wm_hmac_blake2s(key, shared, 32, LABEL, sizeof(LABEL) - 1);
}

void wm_disco_id_key(uint8_t id_key[32], const uint8_t shared[32])
{
	wm_hmac_blake2s(id_key, shared, 32, ID_LABEL, sizeof(ID_LABEL) - 1);
}

void wm_disco_pair_id(uint8_t id[WM_DISCO_ID], const uint8_t id_key[32],
		      const uint8_t sender[WM_KEY_SIZE], int64_t epoch)
{
	uint8_t in[8 + WM_KEY_SIZE];
	uint64_t e = (uint64_t)epoch;

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(e >> (56 - 8 * i));
	memcpy(in + 8, sender, WM_KEY_SIZE);
	wm_blake2s(id, WM_DISCO_ID, in, sizeof(in), id_key, 32);
}

int64_t wm_disco_epoch(int64_t wall_s)
{
	int64_t e = wall_s / WM_DISCO_EPOCH_S;

	return wall_s < 0 && e * WM_DISCO_EPOCH_S != wall_s ? e - 1 : e;
}

/* False for an address that is neither IPv4 nor IPv6: the receiver would
 * refuse the whole message, so it must not be built. */
static bool put_addr(uint8_t *p, const union wm_sockaddr *a)
{
	memset(p, 0, WM_DISCO_ADDR);
	if (a->sa.sa_family == AF_INET) {
		p[0] = 4;
		memcpy(p + 1, &a->in.sin_port, 2);
		memcpy(p + 3, &a->in.sin_addr, 4);
	} else if (a->sa.sa_family == AF_INET6) {
		p[0] = 6;
		memcpy(p + 1, &a->in6.sin6_port, 2);
		memcpy(p + 3, &a->in6.sin6_addr, 16);
	} else {
		return false;
	}
	return true;
}

static bool get_addr(union wm_sockaddr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	if (p[0] == 4) {
		a->in.sin_family = AF_INET;
		memcpy(&a->in.sin_port, p + 1, 2);
		memcpy(&a->in.sin_addr, p + 3, 4);
	} else if (p[0] == 6) {
		a->in6.sin6_family = AF_INET6;
		memcpy(&a->in6.sin6_port, p + 1, 2);
		memcpy(&a->in6.sin6_addr, p + 3, 16);
	} else {
		return false;
	}
	return true;
}

/* The plaintext payload; returns its length, 0 if msg is invalid. */
static size_t marshal(uint8_t *p, const struct wm_disco_msg *msg)
{
	size_t n = 0;
	uint64_t t = (uint64_t)msg->sent_at;

	p[n++] = (uint8_t)msg->type;
	for (int i = 7; i >= 0; i--)
		p[n++] = (uint8_t)(t >> (8 * i));
	switch (msg->type) {
	case WM_DISCO_PING:
		memcpy(p + n, msg->txid, WM_DISCO_TXID);
		return n + WM_DISCO_TXID;
	case WM_DISCO_PONG:
		memcpy(p + n, msg->txid, WM_DISCO_TXID);
		if (!put_addr(p + n + WM_DISCO_TXID, &msg->observed))
			return 0;
		return n + WM_DISCO_TXID + WM_DISCO_ADDR;
	case WM_DISCO_CALL_ME_MAYBE:
		if (msg->n_candidates > WM_DISCO_MAX_CANDIDATES)
			return 0;
		p[n++] = (uint8_t)msg->n_candidates;
		for (size_t i = 0; i < msg->n_candidates; i++, n += WM_DISCO_ADDR)
			if (!put_addr(p + n, &msg->candidates[i]))
				return 0;
		return n;
	case WM_DISCO_MAPPING:
		p[n] = msg->mapping;
		return n + 1;
	case WM_DISCO_BIRTHDAY:
		if (!put_addr(p + n, &msg->target))
			return 0;
		return n + WM_DISCO_ADDR;
	}
	return 0;
}

static bool unmarshal(struct wm_disco_msg *msg, const uint8_t *p, size_t len)
{
	uint64_t t = 0;

	memset(msg, 0, sizeof(*msg));
	if (len < 9)
		return false;
	for (int i = 1; i <= 8; i++)
		t = t << 8 | p[i];
	msg->type = (enum wm_disco_type)p[0];
	msg->sent_at = (int64_t)t;
	p += 9;
	len -= 9;
	switch (msg->type) {
	case WM_DISCO_PING:
		if (len != WM_DISCO_TXID)
			return false;
		memcpy(msg->txid, p, WM_DISCO_TXID);
		return true;
	case WM_DISCO_PONG:
		if (len != WM_DISCO_TXID + WM_DISCO_ADDR)
			return false;
		memcpy(msg->txid, p, WM_DISCO_TXID);
		return get_addr(&msg->observed, p + WM_DISCO_TXID);
	case WM_DISCO_CALL_ME_MAYBE:
		if (len < 1 || p[0] > WM_DISCO_MAX_CANDIDATES ||
		    len != 1 + (size_t)p[0] * WM_DISCO_ADDR)
			return false;
		for (size_t i = 0; i < p[0]; i++)
			if (!get_addr(&msg->candidates[i], p + 1 + i * WM_DISCO_ADDR))
				return false;
		msg->n_candidates = p[0];
		return true;
	case WM_DISCO_MAPPING:
		if (len != 1)
			return false;
		msg->mapping = p[0];
		return true;
	case WM_DISCO_BIRTHDAY:
		return len == WM_DISCO_ADDR && get_addr(&msg->target, p);
	}
	return false;
}

/* magic | who (the sender's key, or the pair id) | nonce | sealed body,
 * the header as associated data. */
static size_t seal(uint8_t *out, const struct wm_disco_msg *msg,
		   const char *magic, const uint8_t *who, size_t who_len,
		   const uint8_t key[32], const uint8_t nonce[24])
{
	size_t hdr = WM_DISCO_MAGIC_LEN + who_len + 24;
	size_t n = marshal(out + hdr, msg);

	if (!n)
		return 0;
	memcpy(out, magic, WM_DISCO_MAGIC_LEN);
	memcpy(out + WM_DISCO_MAGIC_LEN, who, who_len);
	memcpy(out + WM_DISCO_MAGIC_LEN + who_len, nonce, 24);
	wm_xaead_seal(out + hdr, out + hdr, n, out, hdr, nonce, key);
	return hdr + n + 16;
}

size_t wm_disco_seal(uint8_t *out, const struct wm_disco_msg *msg,
		     const uint8_t sender[WM_KEY_SIZE], const uint8_t key[32],
		     const uint8_t nonce[24])
{
	return seal(out, msg, WM_DISCO_MAGIC, sender, WM_KEY_SIZE, key, nonce);
}

size_t wm_disco_seal_v2(uint8_t *out, const struct wm_disco_msg *msg,
			const uint8_t id[WM_DISCO_ID], const uint8_t key[32],
			const uint8_t nonce[24])
{
	return seal(out, msg, WM_DISCO_MAGIC_V2, id, WM_DISCO_ID, key, nonce);
}

enum wm_disco_result wm_disco_open(struct wm_disco_msg *msg,
				   const uint8_t *buf, size_t len,
				   const uint8_t key[32], int64_t now)
{
	uint8_t plain[WM_DISCO_MAX_PAYLOAD];
	int64_t skew;
	size_t n, hdr;

	if (!wm_disco_is_disco(buf, len))
		return WM_DISCO_MALFORMED;
	hdr = hdr_len(buf);
	if (len < hdr + 16 + 9 || len > hdr + WM_DISCO_MAX_PAYLOAD + 16)
		return WM_DISCO_MALFORMED;
	n = len - hdr - 16;
	if (!wm_xaead_open(plain, buf + hdr, len - hdr, buf, hdr,
			   wm_disco_nonce(buf), key))
		return WM_DISCO_BAD_AUTH;
	if (!unmarshal(msg, plain, n))
		return WM_DISCO_MALFORMED;
	msg->version = wm_disco_version(buf);
	if (msg->version == 2)
		return WM_DISCO_OK;
	/* sent_at is the sender's to choose: no overflow on any value. */
	if (__builtin_sub_overflow(now, msg->sent_at, &skew) ||
	    skew > WM_DISCO_MAX_SKEW_S || skew < -WM_DISCO_MAX_SKEW_S)
		return WM_DISCO_STALE;
	return WM_DISCO_OK;
}
