/* See datapath.h: the handshake glue between noise.c, cookie.c, the index
 * table, the timers and the socket. */
#include "agent/wg/clock.h"
#include "agent/datapath.h"
#include "agent/nat/path.h"
#include "agent/relay/client.h"
#include "agent/wg/timers.h"
#include "crypto/ct.h"
#include "crypto/random.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

enum { UNDER_LOAD_PER_SECOND = 64 };

static void forget_handshake(struct wm_peer *p)
{
	if (p->hs.state != WM_HS_ZEROED)
		wm_index_remove(&p->dev->index, p->hs.local_index);
	wm_memzero(&p->hs, sizeof(p->hs));
}

static bool can_reach(const struct wm_peer *p)
{
	return wm_path_choose(p, wm_relay_client_up(p->dev->relay),
			      wm_now_ns()) != WM_VIA_NONE;
}

/* Records where an authenticated handshake message came from. */
static void note_source(struct wm_peer *p, const union wm_sockaddr *src,
			uint64_t now)
{
	if (src) {
		p->endpoint = *src;
		p->direct_rx_ns = now;
		p->wg_direct_rx_ns = now;
	} else {
		p->relay_rx_ns = now;
	}
	wm_path_update(p, now);
}

void wm_handshake_initiate(struct wm_peer *p, bool is_retry)
{
	struct wm_device *dev = p->dev;
	struct wm_msg_initiation msg;
	uint8_t eph[WM_KEY_SIZE], ts[WM_TIMESTAMP_SIZE];
	uint64_t now = wm_now_ns();
	struct timespec wall = wm_wall_now();
	uint32_t idx;

	if (!is_retry)
		p->timers.handshake_attempts = 0;
	if (p->timers.last_initiation_sent &&
	    wm_since(now, p->timers.last_initiation_sent) <
		    (uint64_t)WM_REKEY_TIMEOUT * WM_NSEC_PER_SEC)
		return;
	if (!dev->has_private_key)
		return;
	if (!can_reach(p)) {
		/* Keep the retransmit timer going, as the kernel does when a
		 * send fails: a path may appear (the relay comes back). No
		 * rate limit for what was never sent, so a path that appears
		 * is used at once. */
		if (!p->timers.retransmit_handshake)
			wm_timers_on_handshake_initiated(p);
		wm_timers_on_authenticated_traversal(p);
		return;
	}
	if (wm_random_bytes(eph, sizeof(eph)) < 0)
		return;
	forget_handshake(p);
	if (wm_index_add(&dev->index, p, NULL, &idx) < 0)
		goto out;
	wm_noise_tai64n(ts, wall.tv_sec, wall.tv_nsec);
	if (wm_noise_create_initiation(&msg, &p->hs, &dev->local, &p->noise,
				       idx, eph, ts) != WM_NOISE_OK) {
		wm_index_remove(&dev->index, idx);
		goto out;
	}
	wm_cookie_add_macs(&p->cookie, &msg, sizeof(msg), now);
	p->timers.last_initiation_sent = now;
	wm_timers_on_handshake_initiated(p);
	wm_timers_on_authenticated_traversal(p);
	wm_send_to_peer(p, (const uint8_t *)&msg, sizeof(msg));
	wm_timers_on_authenticated_sent(p);
out:
	wm_memzero(eph, sizeof(eph));
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

/* Checks the MACs of a handshake message; answers with a cookie when we
 * are under load and the sender has not proven its address. */
static bool macs_ok(struct wm_device *dev, uint8_t *buf, size_t len,
		    uint32_t sender_index, const union wm_sockaddr *src,
		    uint64_t now)
{
	uint8_t addr[18] = { 0 }, secret[WM_KEY_SIZE], nonce[WM_COOKIE_NONCE_SIZE];
	size_t alen = src ? source_bytes(addr, src) : 0;
	enum wm_cookie_mac_state st;
	bool ok = false;

	if (wm_random_bytes(secret, sizeof(secret)) < 0)
		return false;
	st = wm_cookie_validate(&dev->cookie_checker, buf, len, addr, alen, now,
				secret);
	if (st == WM_COOKIE_INVALID_MAC) {
		dev->stats.rx_bad_mac++;
		goto out;
	}
	/* Relayed messages have no address to prove; the relay already
	 * authenticated and rate-limits their sender. */
	if (src && st != WM_COOKIE_VALID_MAC_COOKIE && under_load(dev, now)) {
		struct wm_msg_cookie reply;
		if (wm_random_bytes(nonce, sizeof(nonce)) == 0) {
			wm_cookie_create_reply(&reply, &dev->cookie_checker, buf,
					       len, sender_index, addr, alen,
					       now, secret, nonce);
			if (wm_send_udp(dev, src, &reply, sizeof(reply)) == 0)
				dev->stats.cookie_replies_sent++;
		}
		goto out;
	}
	ok = true;
out:
	wm_memzero(secret, sizeof(secret));
	return ok;
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

static void handshake_done(struct wm_peer *p, uint64_t now)
{
	struct timespec wall = wm_wall_now();

	p->last_handshake_sec = (uint64_t)wall.tv_sec;
	p->last_handshake_nsec = (uint64_t)wall.tv_nsec;
	p->last_handshake_mono = now;
	p->dev->stats.handshakes_completed++;
	if (p->dev->hooks.handshake)
		p->dev->hooks.handshake(p->dev->hooks.ctx, p);
}

static void failed(struct wm_device *dev, const char *what,
		   enum wm_noise_result r)
{
	dev->stats.rx_handshake_failed++;
	(void)what;
	(void)r;
}

void wm_handshake_receive_initiation(struct wm_device *dev, uint8_t *buf,
				     size_t len, const union wm_sockaddr *src)
{
	struct wm_msg_initiation *msg = (struct wm_msg_initiation *)buf;
	struct wm_msg_response resp;
	struct wm_handshake hs;
	struct wm_noise_peer *np;
	struct wm_keypair kp;
	struct wm_peer *p;
	uint8_t eph[WM_KEY_SIZE];
	uint64_t now = wm_now_ns();
	enum wm_noise_result r;
	uint32_t idx;

	if (!dev->has_private_key ||
	    !macs_ok(dev, buf, len, msg->sender_index, src, now))
		return;
	/* Relayed initiations carry no address to prove with a cookie, so
	 * they are limited per relay-authenticated sender before any DH. */
	if (!src) {
		struct wm_peer *rp = dev->relayed_from;
		if (!rp || wm_since(now, rp->relayed_initiation_ns) <
				   WM_NSEC_PER_SEC / WM_INITIATIONS_PER_SECOND) {
			dev->stats.rx_handshake_failed++;
			return;
		}
		rp->relayed_initiation_ns = now;
	}
	r = wm_noise_consume_initiation(msg, &hs, &dev->local, lookup_peer, dev,
					&np, now);
	if (r != WM_NOISE_OK) {
		failed(dev, "initiation", r);
		goto out;
	}
	p = peer_of(np);
	/* Through the relay, the sender must be who the relay says it is. */
	if (!src && p != dev->relayed_from) {
		failed(dev, "initiation", WM_NOISE_UNKNOWN_PEER);
		goto out;
	}
	/* As the kernel and wireguard-go do, handshakes count as received
	 * bytes once authenticated. */
	p->rx_bytes += len;
	forget_handshake(p);
	p->hs = hs;
	if (wm_random_bytes(eph, sizeof(eph)) < 0 ||
	    wm_index_add(&dev->index, p, NULL, &idx) < 0)
		goto out;
	r = wm_noise_create_response(&resp, &p->hs, &p->noise, idx, eph);
	if (r != WM_NOISE_OK) {
		wm_index_remove(&dev->index, idx);
		failed(dev, "response", r);
		goto out;
	}
	wm_cookie_add_macs(&p->cookie, &resp, sizeof(resp), now);
	wm_noise_derive_keypair(&kp, &p->hs, now);
	wm_peer_install_session(p, &kp);
	/* Roaming: the sender proved its key, so its address is current. */
	note_source(p, src, now);
	wm_timers_on_authenticated_traversal(p);
	wm_send_to_peer(p, (const uint8_t *)&resp, sizeof(resp));
	wm_timers_on_authenticated_sent(p);
	wm_timers_on_session_derived(p);
	handshake_done(p, now);
out:
	wm_memzero(&hs, sizeof(hs));
	wm_memzero(&kp, sizeof(kp));
	wm_memzero(eph, sizeof(eph));
}

void wm_handshake_receive_response(struct wm_device *dev, uint8_t *buf,
				   size_t len, const union wm_sockaddr *src)
{
	struct wm_msg_response *msg = (struct wm_msg_response *)buf;
	const struct wm_index_entry *e;
	struct wm_keypair kp;
	struct wm_peer *p;
	uint64_t now = wm_now_ns();
	enum wm_noise_result r;

	e = wm_index_lookup(&dev->index, le32toh(msg->receiver_index));
	if (!e || e->session) {
		dev->stats.rx_unknown_index++;
		return;
	}
	p = e->owner;
	if (!macs_ok(dev, buf, len, msg->sender_index, src, now))
		return;
	r = wm_noise_consume_response(msg, &p->hs, &dev->local, &p->noise);
	if (r != WM_NOISE_OK) {
		failed(dev, "response", r);
		return;
	}
	p->rx_bytes += len;
	wm_noise_derive_keypair(&kp, &p->hs, now);
	wm_peer_install_session(p, &kp);
	wm_memzero(&kp, sizeof(kp));
	note_source(p, src, now);
	wm_timers_on_authenticated_received(p);
	wm_timers_on_authenticated_traversal(p);
	wm_timers_on_handshake_complete(p);
	wm_timers_on_session_derived(p);
	handshake_done(p, now);
	/* The responder may only send once it hears from us: confirm the
	 * session with data or, failing that, a keepalive. */
	if (p->staged_len)
		wm_send_staged(p);
	else
		wm_send_keepalive(p);
}

void wm_handshake_receive_cookie(struct wm_device *dev, const uint8_t *buf,
				 size_t len)
{
	const struct wm_msg_cookie *msg = (const struct wm_msg_cookie *)buf;
	const struct wm_index_entry *e;

	(void)len;
	e = wm_index_lookup(&dev->index, le32toh(msg->receiver_index));
	if (!e || e->session) {
		dev->stats.rx_unknown_index++;
		return;
	}
	if (!wm_cookie_consume_reply(&((struct wm_peer *)e->owner)->cookie, msg, wm_now_ns()))
		dev->stats.rx_handshake_failed++;
}
