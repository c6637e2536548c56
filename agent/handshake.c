/* See handshake.h. */
#include "agent/handshake.h"
#include "agent/wg/clock.h"
#include "crypto/ct.h"

#include <endian.h>
#include <string.h>

enum { UNDER_LOAD_PER_SECOND = 64 };

static void forget_handshake(struct wm_device *dev, struct wm_peer *p)
{
	if (p->hs.state != WM_HS_ZEROED)
		wm_index_remove(&dev->index, p->hs.local_index);
	wm_memzero(&p->hs, sizeof(p->hs));
}

bool wm_handshake_create_initiation(struct wm_device *dev, struct wm_peer *p,
				    struct wm_msg_initiation *msg,
				    uint64_t now)
{
	uint8_t eph[WM_KEY_SIZE], ts[WM_TIMESTAMP_SIZE];
	struct timespec wall = wm_wall_now();
	bool ok = false;
	uint32_t idx;

	if (!dev->has_private_key || dev->random(eph, sizeof(eph)) < 0)
		goto out;
	forget_handshake(dev, p);
	if (wm_index_add(&dev->index, p, NULL, &idx) < 0)
		goto out;
	wm_noise_tai64n(ts, wall.tv_sec, wall.tv_nsec);
	if (wm_noise_create_initiation(msg, &p->hs, &dev->local, &p->noise,
				       idx, eph, ts) != WM_NOISE_OK) {
		wm_index_remove(&dev->index, idx);
		goto out;
	}
	wm_cookie_add_macs(&p->cookie, msg, sizeof(*msg), now);
	ok = true;
out:
	wm_memzero(eph, sizeof(eph));
	return ok;
}

/* The bytes a cookie binds to: the sender's IP then port. */
static size_t source_bytes(uint8_t out[18], const union wm_sockaddr *src)
{
	if (src->sa.sa_family == AF_INET) {
		memcpy(out, &src->in.sin_addr, 4);
		memcpy(out + 4, &src->in.sin_port, 2);
		return 6;
	}
	memcpy(out, &src->in6.sin6_addr, 16);
	memcpy(out + 16, &src->in6.sin6_port, 2);
	return 18;
}

/* Counts a handshake message from the wire (mac1 valid) and says whether
 * we are under load: more than UNDER_LOAD_PER_SECOND in the current
 * second, or in the one before. Messages that carry a cookie count too:
 * a flood that answers its cookies is still a flood. */
static bool under_load(struct wm_device *dev, uint64_t now)
{
	if (wm_since(now, dev->load_window_start) >= WM_NSEC_PER_SEC) {
		dev->load_window_start = now;
		dev->load_window_count = 0;
	}
	if (++dev->load_window_count > UNDER_LOAD_PER_SECOND)
		dev->under_load_until = now + WM_NSEC_PER_SEC;
	return now < dev->under_load_until;
}

/* A cookie reply for src; the secret is drawn (or renewed, every 120 s)
 * only here, once a message has shown a valid mac1. */
static bool make_reply(struct wm_device *dev, const uint8_t *buf, size_t len,
		       uint32_t sender_index, const uint8_t *addr, size_t alen,
		       uint64_t now, struct wm_msg_cookie *reply)
{
	uint8_t secret[WM_KEY_SIZE], nonce[WM_COOKIE_NONCE_SIZE];
	bool ok = false;

	if (wm_cookie_checker_needs_secret(&dev->cookie_checker, now)) {
		if (dev->random(secret, sizeof(secret)) < 0)
			goto out;
		wm_cookie_checker_rotate(&dev->cookie_checker, secret, now);
	}
	ok = dev->random(nonce, sizeof(nonce)) == 0 &&
	     wm_cookie_create_reply(reply, &dev->cookie_checker, buf, len,
				    sender_index, addr, alen, now, nonce);
out:
	wm_memzero(secret, sizeof(secret));
	return ok;
}

enum wm_mac_verdict wm_handshake_check_macs(struct wm_device *dev,
					    const uint8_t *buf, size_t len,
					    uint32_t sender_index,
					    const union wm_sockaddr *src,
					    uint64_t now,
					    struct wm_msg_cookie *reply)
{
	uint8_t addr[18] = { 0 };
	size_t alen = src ? source_bytes(addr, src) : 0;
	enum wm_cookie_mac_state st;

	/* WireGuard's order: mac1 before anything that costs more than a
	 * hash (no randomness, no Diffie-Hellman). With a stale secret mac2
	 * cannot validate, which is right: cookies die with their secret. */
	st = wm_cookie_validate(&dev->cookie_checker, buf, len, addr, alen, now);
	if (st == WM_COOKIE_INVALID_MAC) {
		dev->stats.rx_bad_mac++;
		return WM_MAC_DROP;
	}
	/* Relayed messages have no address to prove; the relay already
	 * authenticated and rate-limits their sender. */
	if (!src || !under_load(dev, now))
		return WM_MAC_OK;
	if (st != WM_COOKIE_VALID_MAC_COOKIE)
		return make_reply(dev, buf, len, sender_index, addr, alen, now,
				  reply)
			       ? WM_MAC_COOKIE
			       : WM_MAC_DROP;
	/* A cookie proves the address, not that it may have our CPU: each
	 * source keeps a budget (the kernel's ratelimiter rule). */
	if (!wm_ratelimit_allow(&dev->ratelimit, src->sa.sa_family,
				src->sa.sa_family == AF_INET
					? (const void *)&src->in.sin_addr
					: (const void *)&src->in6.sin6_addr,
				now)) {
		dev->stats.rx_handshake_limited++;
		return WM_MAC_DROP;
	}
	return WM_MAC_OK;
}

static struct wm_noise_peer *lookup_peer(void *ctx, const uint8_t key[32])
{
	struct wm_peer *p = wm_device_find_peer(ctx, key);

	return p ? &p->noise : NULL;
}

static struct wm_peer *peer_of(struct wm_noise_peer *np)
{
	return (struct wm_peer *)((uint8_t *)np - offsetof(struct wm_peer, noise));
}

struct wm_peer *wm_handshake_consume_initiation(struct wm_device *dev,
						struct wm_msg_initiation *msg,
						struct wm_peer *from,
						uint64_t now,
						struct wm_msg_response *resp)
{
	struct wm_handshake hs;
	struct wm_noise_peer *np;
	struct wm_keypair kp;
	struct wm_peer *p = NULL;
	uint8_t eph[WM_KEY_SIZE];
	uint32_t idx;

	memset(&kp, 0, sizeof(kp));
	if (!dev->has_private_key)
		goto out;
	if (wm_noise_consume_initiation(msg, &hs, &dev->local, lookup_peer, dev,
					&np, now) != WM_NOISE_OK)
		goto refused;
	p = peer_of(np);
	/* Through the relay, the sender must be who the relay says it is. */
	if (from && p != from)
		goto refused;
	/* As the kernel and wireguard-go do, handshakes count as received
	 * bytes once authenticated. */
	p->rx_bytes += sizeof(*msg);
	forget_handshake(dev, p);
	p->hs = hs;
	if (dev->random(eph, sizeof(eph)) < 0 ||
	    wm_index_add(&dev->index, p, NULL, &idx) < 0) {
		p = NULL;
		goto out;
	}
	if (wm_noise_create_response(resp, &p->hs, &p->noise, idx, eph) !=
	    WM_NOISE_OK) {
		wm_index_remove(&dev->index, idx);
		goto refused;
	}
	wm_cookie_add_macs(&p->cookie, resp, sizeof(*resp), now);
	wm_noise_derive_keypair(&kp, &p->hs, now);
	if (!wm_peer_install_session(p, &kp)) {
		/* No memory for the session: no response either, and the
		 * response's index goes too. */
		wm_index_remove(&dev->index, idx);
		p = NULL;
	}
	goto out;
refused:
	dev->stats.rx_handshake_failed++;
	p = NULL;
out:
	wm_memzero(&hs, sizeof(hs));
	wm_memzero(&kp, sizeof(kp));
	wm_memzero(eph, sizeof(eph));
	return p;
}

struct wm_peer *wm_handshake_response_peer(struct wm_device *dev,
					   const struct wm_msg_response *msg)
{
	const struct wm_index_entry *e;

	e = wm_index_lookup(&dev->index, le32toh(msg->receiver_index));
	if (!e || e->session) {
		dev->stats.rx_unknown_index++;
		return NULL;
	}
	return e->owner;
}

bool wm_handshake_consume_response(struct wm_device *dev, struct wm_peer *p,
				   struct wm_msg_response *msg, uint64_t now)
{
	struct wm_keypair kp;
	bool installed;

	if (wm_noise_consume_response(msg, &p->hs, &dev->local, &p->noise) !=
	    WM_NOISE_OK) {
		dev->stats.rx_handshake_failed++;
		return false;
	}
	p->rx_bytes += sizeof(*msg);
	wm_noise_derive_keypair(&kp, &p->hs, now);
	installed = wm_peer_install_session(p, &kp) != NULL;
	wm_memzero(&kp, sizeof(kp));
	return installed;
}

void wm_handshake_consume_cookie(struct wm_device *dev,
				 const struct wm_msg_cookie *msg, uint64_t now)
{
	const struct wm_index_entry *e;
	struct wm_peer *p;

	e = wm_index_lookup(&dev->index, le32toh(msg->receiver_index));
	if (!e || e->session) {
		dev->stats.rx_unknown_index++;
		return;
	}
	p = e->owner;
	if (!wm_cookie_consume_reply(&p->cookie, msg, now))
		dev->stats.rx_handshake_failed++;
}

void wm_handshake_completed(struct wm_device *dev, struct wm_peer *p,
			    uint64_t now)
{
	struct timespec wall = wm_wall_now();
	struct wm_event ev = { .type = WM_EVENT_HANDSHAKE };

	p->last_handshake_sec = (uint64_t)wall.tv_sec;
	p->last_handshake_nsec = (uint64_t)wall.tv_nsec;
	p->last_handshake_mono = now;
	dev->stats.handshakes_completed++;
	memcpy(ev.key, p->public_key, WM_KEY_SIZE);
	wm_event_push(&dev->events, &ev);
}
