/* See cookie.h. */
#include "agent/wg/cookie.h"
#include "crypto/blake2s.h"
#include "crypto/ct.h"
#include "crypto/xchacha.h"

#include <string.h>

static void derive_key(uint8_t key[WM_KEY_SIZE], const char *label,
		       const uint8_t pub[WM_KEY_SIZE])
{
	struct wm_blake2s s;

	wm_blake2s_init(&s, WM_KEY_SIZE, NULL, 0);
	wm_blake2s_update(&s, label, 8);
	wm_blake2s_update(&s, pub, WM_KEY_SIZE);
	wm_blake2s_final(&s, key);
}

/* MAC(key, msg) = keyed BLAKE2s with a 16-byte output. */
static void mac(uint8_t out[WM_COOKIE_SIZE], const uint8_t *key, size_t keylen,
		const void *msg, size_t len)
{
	wm_blake2s(out, WM_COOKIE_SIZE, msg, len, key, keylen);
}

static bool expired(uint64_t birth, uint64_t now, uint64_t max_age_s)
{
	return birth == 0 || now - birth >= max_age_s * WM_NSEC_PER_SEC;
}

void wm_cookie_maker_init(struct wm_cookie_maker *m,
			  const uint8_t remote_public[WM_KEY_SIZE])
{
	memset(m, 0, sizeof(*m));
	derive_key(m->mac1_key, WM_LABEL_MAC1, remote_public);
	derive_key(m->cookie_key, WM_LABEL_COOKIE, remote_public);
}

void wm_cookie_checker_init(struct wm_cookie_checker *c,
			    const uint8_t local_public[WM_KEY_SIZE])
{
	memset(c, 0, sizeof(*c));
	derive_key(c->mac1_key, WM_LABEL_MAC1, local_public);
	derive_key(c->cookie_key, WM_LABEL_COOKIE, local_public);
}

void wm_cookie_add_macs(struct wm_cookie_maker *m, void *msg, size_t len,
			uint64_t now_ns)
{
	struct wm_msg_macs *macs =
		(struct wm_msg_macs *)((uint8_t *)msg + len - sizeof(*macs));
	size_t before_mac1 = len - sizeof(*macs);
	size_t before_mac2 = len - sizeof(macs->mac2);

	mac(macs->mac1, m->mac1_key, WM_KEY_SIZE, msg, before_mac1);
	memcpy(m->last_mac1, macs->mac1, WM_COOKIE_SIZE);
	m->have_sent_mac1 = true;

	/* A cookie is good for 120 s from receipt, less a margin so it is
	 * never used just as the responder rotates its secret. */
	if (!expired(m->cookie_birth_ns, now_ns,
		     WM_COOKIE_SECRET_MAX_AGE - WM_COOKIE_SECRET_LATENCY))
		mac(macs->mac2, m->cookie, WM_COOKIE_SIZE, msg, before_mac2);
	else
		memset(macs->mac2, 0, sizeof(macs->mac2));
}

bool wm_cookie_checker_needs_secret(const struct wm_cookie_checker *c,
				    uint64_t now_ns)
{
	return expired(c->secret_birth_ns, now_ns, WM_COOKIE_SECRET_MAX_AGE);
}

void wm_cookie_checker_rotate(struct wm_cookie_checker *c,
			      const uint8_t secret[WM_KEY_SIZE],
			      uint64_t now_ns)
{
	memcpy(c->secret, secret, WM_KEY_SIZE);
	c->secret_birth_ns = now_ns ? now_ns : 1;
}

/* The cookie for src under the current secret; false when the secret is
 * stale, as WireGuard holds cookies invalid past the secret's max age. */
static bool make_cookie(uint8_t cookie[WM_COOKIE_SIZE],
			const struct wm_cookie_checker *c, const void *src,
			size_t srclen, uint64_t now_ns)
{
	if (wm_cookie_checker_needs_secret(c, now_ns))
		return false;
	mac(cookie, c->secret, WM_KEY_SIZE, src, srclen);
	return true;
}

enum wm_cookie_mac_state
wm_cookie_validate(const struct wm_cookie_checker *c, const void *msg,
		   size_t len, const void *src, size_t srclen, uint64_t now_ns)
{
	const struct wm_msg_macs *macs =
		(const struct wm_msg_macs *)((const uint8_t *)msg + len -
					     sizeof(*macs));
	uint8_t computed[WM_COOKIE_SIZE], cookie[WM_COOKIE_SIZE];
	enum wm_cookie_mac_state ret = WM_COOKIE_INVALID_MAC;

	mac(computed, c->mac1_key, WM_KEY_SIZE, msg, len - sizeof(*macs));
	if (!wm_ct_memeq(computed, macs->mac1, WM_COOKIE_SIZE))
		goto out;
	ret = WM_COOKIE_VALID_MAC;
	if (!make_cookie(cookie, c, src, srclen, now_ns))
		goto out;
	mac(computed, cookie, WM_COOKIE_SIZE, msg, len - sizeof(macs->mac2));
	if (wm_ct_memeq(computed, macs->mac2, WM_COOKIE_SIZE))
		ret = WM_COOKIE_VALID_MAC_COOKIE;
out:
	wm_memzero(cookie, sizeof(cookie));
	return ret;
}

bool wm_cookie_create_reply(struct wm_msg_cookie *out,
			    const struct wm_cookie_checker *c, const void *msg,
			    size_t len, uint32_t receiver_index,
			    const void *src, size_t srclen, uint64_t now_ns,
			    const uint8_t nonce[WM_COOKIE_NONCE_SIZE])
{
	const struct wm_msg_macs *macs =
		(const struct wm_msg_macs *)((const uint8_t *)msg + len -
					     sizeof(*macs));
	uint8_t cookie[WM_COOKIE_SIZE];
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (!make_cookie(cookie, c, src, srclen, now_ns))
		goto out;
	out->header.type = WM_MSG_COOKIE;
	out->receiver_index = receiver_index;
	memcpy(out->nonce, nonce, WM_COOKIE_NONCE_SIZE);
	wm_xaead_seal(out->encrypted_cookie, cookie, WM_COOKIE_SIZE,
		      macs->mac1, WM_COOKIE_SIZE, out->nonce, c->cookie_key);
	ok = true;
out:
	wm_memzero(cookie, sizeof(cookie));
	return ok;
}

bool wm_cookie_consume_reply(struct wm_cookie_maker *m,
			     const struct wm_msg_cookie *reply,
			     uint64_t now_ns)
{
	uint8_t cookie[WM_COOKIE_SIZE];

	if (!m->have_sent_mac1)
		return false;
	if (!wm_xaead_open(cookie, reply->encrypted_cookie,
			   sizeof(reply->encrypted_cookie), m->last_mac1,
			   WM_COOKIE_SIZE, reply->nonce, m->cookie_key))
		return false;
	memcpy(m->cookie, cookie, WM_COOKIE_SIZE);
	m->cookie_birth_ns = now_ns ? now_ns : 1;
	m->have_sent_mac1 = false;
	wm_memzero(cookie, sizeof(cookie));
	return true;
}
