/* See relay/server.h: the pure relay core. */
#include "agent/relay/server.h"
#include "agent/wg/clock.h"
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "agent/wg/ratelimit.h"
#include "agent/relay/server_tables.h"
#include "agent/relay/fwd.h"
#include "agent/relay/proto.h"
#include "agent/nat/stun.h"
#include "agent/nat/stun_server.h"
#include "agent/wg/session.h"
#include "agent/wg/transport.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	/* Initiations per second (mac1 valid, any transport) past which
	 * senders must prove their address with a cookie first, and then
	 * stay within their address's budget. */
	UNDER_LOAD_PER_SECOND = 256,
	/* Under load, initiations a second per source address (bursts of
	 * five): a quarter of WireGuard's 20. The relay's clients handshake
	 * once in two minutes, or once a second while connecting, so this is
	 * plenty for them; and a flood from N addresses that answers its
	 * cookies buys 5N Diffie-Hellman a second, not 20N (on this
	 * project's two-core lab, 2,000 a second from 100 addresses took
	 * more CPU than a busy relay got). */
	HANDSHAKES_PER_SECOND = 5,
	/* STUN answers a second per source address (IPv4, IPv6 /64), in
	 * bursts of STUN_BURST. An answer (60-80 bytes) is 3-4 times its
	 * request, so a spoofed source would otherwise turn the relay into
	 * an amplifier. An agent asks each of the relay's two ports at most
	 * once a second (stun_client.c: retries from 1 s up, every 25 s once
	 * answered), an RFC 3489 client a few tests of ~10 retransmissions:
	 * this leaves room for dozens of agents behind one NAT address, and
	 * a victim gets at most ~2 KB/s reflected. */
	STUN_PER_SECOND = 20,
	STUN_BURST = 40,
	LOG_SLOTS = 16,
	/* "Unknown session" answers: sources remembered, and the overall
	 * rate (answers per second, also the burst). */
	UNKNOWN_SLOTS = 256,
	UNKNOWN_PER_SECOND = 64,
};
#define NS 1000000000ULL
#define IDLE_NS (180 * NS)
#define LOG_EVERY_NS (60 * NS)
/* One "unknown session" answer per source (address, or connection) per
 * second. */
#define UNKNOWN_EVERY_NS NS

struct wm_relay {
	struct wm_noise_local local;
	struct wm_cookie_checker checker;
	struct wm_relay_tables t;
	struct wm_relay_ops ops;
	struct wm_relay_counters n;
	struct wm_stun_server_ports stun_ports;

	uint64_t load_window_ns, under_load_until;
	unsigned load_count;
	struct wm_ratelimit limiter;
	struct wm_ratelimit stun_limiter; /* STUN answers, per source */

	/* Set by lookup() during wm_noise_consume_initiation. */
	struct wm_relay_allowed *hit;
	uint8_t unknown_key[WM_KEY_SIZE];

	/* Who was last logged, so one remote party cannot flood the log. */
	struct {
		uint8_t key[WM_KEY_SIZE];
		uint64_t at;
	} logged[LOG_SLOTS];
	uint64_t full_logged_at;

	/* "Unknown session" answers: when each source (by a hash of its
	 * address or connection) was last answered, and a global token
	 * bucket counted in nanoseconds of credit. */
	struct {
		uint64_t key, at;
	} unknown[UNKNOWN_SLOTS];
	uint64_t unknown_credit, unknown_refill_at;
};

const char *wm_relay_drop_name(enum wm_relay_drop d)
{
	switch (d) {
	case WM_RELAY_DROP_NOT_ALLOWED: return "not_allowed";
	case WM_RELAY_DROP_DST_UNKNOWN: return "dst_unknown";
	case WM_RELAY_DROP_DST_OFFLINE: return "dst_offline";
	case WM_RELAY_DROP_RATE_LIMITED: return "rate_limited";
	case WM_RELAY_DROP_MALFORMED: return "malformed";
	case WM_RELAY_DROP_BAD_AUTH: return "bad_auth";
	case WM_RELAY_DROP_REPLAY: return "replay";
	case WM_RELAY_DROP_FULL: return "full";
	case WM_RELAY_DROP_SEND_FAILED: return "send_failed";
	case WM_RELAY_DROP_HANDSHAKE_LIMITED: return "handshake_rate_limited";
	case WM_RELAY_DROP_STUN_LIMITED: return "stun_rate_limited";
	case WM_RELAY_DROP_MAX: break;
	}
	return "unknown";
}

const char *wm_relay_transport_name(enum wm_relay_transport t)
{
	switch (t) {
	case WM_RELAY_UDP: return "udp";
	case WM_RELAY_TCP: return "tcp";
	case WM_RELAY_TLS: return "tls";
	}
	return "unknown";
}

int wm_relay_new(struct wm_relay **out, const struct wm_relay_params *p,
		 const struct wm_relay_ops *ops)
{
	uint8_t seed[2][WM_RATELIMIT_SEED_SIZE];
	struct wm_relay *r;
	int err;

	*out = NULL;
	if (!p->private_key || !ops->send || !ops->random)
		return -EINVAL;
	if (ops->random(ops->ctx, seed, sizeof(seed)) < 0)
		return -EIO;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = wm_ratelimit_init(&r->limiter, 0, HANDSHAKES_PER_SECOND, 0,
				seed[0]);
	if (err == 0)
		err = wm_ratelimit_init(&r->stun_limiter, 0, STUN_PER_SECOND,
					STUN_BURST, seed[1]);
	wm_memzero(seed, sizeof(seed));
	if (err == 0)
		err = wm_relay_tables_init(&r->t, p->allowed, p->n_allowed,
					   p->max_clients, p->client_rate, ops);
	if (err < 0) {
		/* both are fine to free zeroed or set up */
		wm_ratelimit_free(&r->limiter);
		wm_ratelimit_free(&r->stun_limiter);
		free(r);
		return err;
	}
	r->ops = *ops;
	r->stun_ports.port = p->stun_port;
	r->stun_ports.alt_port = p->stun_alt_port;
	wm_noise_local_init(&r->local, p->private_key);
	wm_cookie_checker_init(&r->checker, r->local.public_key);
	*out = r;
	return 0;
}

void wm_relay_free(struct wm_relay *r)
{
	if (!r)
		return;
	wm_relay_tables_free(&r->t);
	wm_ratelimit_free(&r->limiter);
	wm_ratelimit_free(&r->stun_limiter);
	wm_memzero(r, sizeof(*r));
	free(r);
}

void wm_relay_public_key(const struct wm_relay *r, uint8_t out[WM_KEY_SIZE])
{
	memcpy(out, r->local.public_key, WM_KEY_SIZE);
}

static void drop(struct wm_relay *r, enum wm_relay_drop why)
{
	r->n.drops[why]++;
}

static void logf_(struct wm_relay *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logf_(struct wm_relay *r, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!r->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->ops.log(r->ops.ctx, line);
}

/* True when key has not been logged in the last minute (and notes it). */
static bool may_log_key(struct wm_relay *r, const uint8_t key[WM_KEY_SIZE],
			uint64_t now)
{
	size_t oldest = 0;

	for (size_t i = 0; i < LOG_SLOTS; i++) {
		if (r->logged[i].at && memcmp(r->logged[i].key, key,
					      WM_KEY_SIZE) == 0) {
			if (now - r->logged[i].at < LOG_EVERY_NS)
				return false;
			r->logged[i].at = now ? now : 1;
			return true;
		}
		if (r->logged[i].at < r->logged[oldest].at)
			oldest = i;
	}
	/* A full table of keys each logged within the minute: a spray of
	 * keys, so stay quiet until a slot ages out. */
	if (r->logged[oldest].at && now - r->logged[oldest].at < LOG_EVERY_NS)
		return false;
	memcpy(r->logged[oldest].key, key, WM_KEY_SIZE);
	r->logged[oldest].at = now ? now : 1;
	return true;
}

static const char *key_text(char buf[WM_KEY_B64_LEN + 1],
			    const uint8_t key[WM_KEY_SIZE])
{
	wm_key_to_base64(buf, key);
	return buf;
}

static void send_raw(struct wm_relay *r, const struct wm_relay_path *to,
		     const uint8_t *buf, size_t len)
{
	if (r->ops.send(r->ops.ctx, to, buf, len) < 0)
		drop(r, WM_RELAY_DROP_SEND_FAILED);
}

/* True when a's budget in rl allows one more (and charges it): by
 * address (IPv4, IPv6 /64), whatever the transport (a flood over many
 * connections from one host is one source). */
static bool within_budget(struct wm_ratelimit *rl, const union wm_sockaddr *a,
			  uint64_t now)
{
	const void *bytes = a->sa.sa_family == AF_INET
				    ? (const void *)&a->in.sin_addr
				    : (const void *)&a->in6.sin6_addr;

	return wm_ratelimit_allow(rl, a->sa.sa_family, bytes, now);
}

/* ---------------------------------------------------------------- STUN */

/* Answers a Binding request, within its source's budget (charged only
 * for answers: requests we ignore, such as CHANGE-IP, cost nothing). */
static void on_stun(struct wm_relay *r, const struct wm_relay_path *from,
		    const uint8_t *buf, size_t len, uint64_t now)
{
	uint8_t out[WM_STUN_ERROR_MAX > WM_STUN_ANSWER_MAX ?
			    WM_STUN_ERROR_MAX : WM_STUN_ANSWER_MAX];
	struct wm_relay_path to = *from;
	enum wm_stun_reply reply;
	size_t n;
	bool malformed;

	reply = wm_stun_server_answer(&r->stun_ports, from->alt_port, buf, len,
				      &from->addr, &from->local, out, &n,
				      &malformed);
	if (malformed)
		drop(r, WM_RELAY_DROP_MALFORMED);
	if (reply == WM_STUN_REPLY_NONE)
		return;
	if (!within_budget(&r->stun_limiter, &from->addr, now)) {
		drop(r, WM_RELAY_DROP_STUN_LIMITED);
		return;
	}
	if (reply == WM_STUN_REPLY_OTHER)
		to.alt_port = !from->alt_port;
	r->n.stun_requests++;
	send_raw(r, &to, out, n);
}

/* ---------------------------------------------------------- handshakes */

/* The bytes a cookie binds to: the sender's IP then port. */
static size_t source_bytes(uint8_t out[18], const union wm_sockaddr *a)
{
	if (a->sa.sa_family == AF_INET) {
		memcpy(out, &a->in.sin_addr, 4);
		memcpy(out + 4, &a->in.sin_port, 2);
		return 6;
	}
	if (a->sa.sa_family == AF_INET6) {
		memcpy(out, &a->in6.sin6_addr, 16);
		memcpy(out + 16, &a->in6.sin6_port, 2);
		return 18;
	}
	return 0;
}

static bool under_load(struct wm_relay *r, uint64_t now)
{
	if (now - r->load_window_ns >= NS) {
		r->load_window_ns = now;
		r->load_count = 0;
	}
	if (++r->load_count > UNDER_LOAD_PER_SECOND)
		r->under_load_until = now + NS;
	return now < r->under_load_until;
}

static struct wm_noise_peer *lookup(void *ctx,
				    const uint8_t remote_static[WM_KEY_SIZE])
{
	struct wm_relay *r = ctx;
	struct wm_relay_allowed *a = wm_relay_find_allowed(&r->t, remote_static);

	if (!a) {
		memcpy(r->unknown_key, remote_static, WM_KEY_SIZE);
		return NULL;
	}
	/* The static DH costs a scalar multiplication: done once per key,
	 * at its first handshake, instead of for the whole list at start. */
	if (!a->noise_ready) {
		wm_noise_peer_init(&a->noise, &r->local, a->key, NULL);
		a->noise_ready = true;
	}
	r->hit = a;
	return &a->noise;
}

static void send_cookie_reply(struct wm_relay *r,
			      const struct wm_relay_path *from,
			      const struct wm_msg_initiation *msg,
			      const uint8_t *src, size_t srclen, uint64_t now)
{
	uint8_t out[WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_cookie)];
	uint8_t nonce[WM_COOKIE_NONCE_SIZE], secret[WM_KEY_SIZE];
	struct wm_msg_cookie reply;

	/* The secret is drawn (or renewed, every 120 s) only here, after a
	 * valid mac1. */
	if (wm_cookie_checker_needs_secret(&r->checker, now)) {
		if (r->ops.random(r->ops.ctx, secret, sizeof(secret)) < 0)
			goto out;
		wm_cookie_checker_rotate(&r->checker, secret, now);
	}
	if (r->ops.random(r->ops.ctx, nonce, sizeof(nonce)) < 0 ||
	    !wm_cookie_create_reply(&reply, &r->checker, msg, sizeof(*msg),
				    msg->sender_index, src, srclen, now, nonce))
		goto out;
	memcpy(out, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	memcpy(out + WM_RELAY_MAGIC_LEN, &reply, sizeof(reply));
	r->n.cookie_replies++;
	send_raw(r, from, out, sizeof(out));
out:
	wm_memzero(secret, sizeof(secret));
}

static void not_allowed(struct wm_relay *r, const struct wm_relay_path *from,
			uint64_t now)
{
	char k[WM_KEY_B64_LEN + 1], a[WM_SOCKADDR_STRLEN];

	drop(r, WM_RELAY_DROP_NOT_ALLOWED);
	if (may_log_key(r, r->unknown_key, now))
		logf_(r, "handshake from %s (%s %s): not on the allow-list, "
			 "ignored", key_text(k, r->unknown_key),
		      wm_relay_transport_name(from->transport),
		      wm_sockaddr_format(a, sizeof(a), &from->addr));
}

static void pool_full(struct wm_relay *r, uint64_t now)
{
	char k[WM_KEY_B64_LEN + 1];

	drop(r, WM_RELAY_DROP_FULL);
	if (r->full_logged_at && now - r->full_logged_at < LOG_EVERY_NS)
		return;
	r->full_logged_at = now ? now : 1;
	logf_(r, "MaxClients (%zu) reached: handshake from %s refused",
	      r->t.n_pool, key_text(k, r->hit->key));
}

/* Answers an authenticated initiation: new "next" session for its key. */
static void respond(struct wm_relay *r, const struct wm_relay_path *from,
		    struct wm_handshake *hs, uint64_t now)
{
	uint8_t out[WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_response)];
	uint8_t eph[WM_KEY_SIZE];
	struct wm_relay_allowed *a = r->hit;
	struct wm_relay_slot *c = a->slot;
	struct wm_cookie_maker maker;
	struct wm_msg_response resp;
	struct wm_keypair kp;
	bool fresh = false;
	uint32_t idx;

	memset(&kp, 0, sizeof(kp));
	if (!c) {
		c = wm_relay_slot_alloc(&r->t, a, now);
		if (!c) {
			pool_full(r, now);
			return;
		}
		fresh = true;
	}
	if (r->ops.random(r->ops.ctx, eph, sizeof(eph)) < 0 ||
	    wm_index_add(&r->t.index, c, &c->next, &idx) < 0)
		goto fail;
	if (wm_noise_create_response(&resp, hs, &a->noise, idx, eph) !=
		    WM_NOISE_OK ||
	    wm_noise_derive_keypair(&kp, hs, now) != WM_NOISE_OK) {
		wm_index_remove(&r->t.index, idx);
		drop(r, WM_RELAY_DROP_BAD_AUTH);
		goto fail;
	}
	wm_cookie_maker_init(&maker, a->key);
	wm_cookie_add_macs(&maker, &resp, sizeof(resp), now);
	wm_relay_session_clear(&r->t, &c->next);
	wm_session_start(&c->next, &kp);
	/* A client with a working session keeps its path until the new
	 * session is confirmed (authentic() then moves it to where the
	 * confirming message came from): a handshake on another connection
	 * that the client then leaves would otherwise take it offline when
	 * that connection closes, and strand its frames there meanwhile. */
	if (!wm_session_can_send(&c->cur, now))
		c->path = *from;
	c->last_rx_ns = now;
	memcpy(out, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	memcpy(out + WM_RELAY_MAGIC_LEN, &resp, sizeof(resp));
	r->n.handshakes++;
	send_raw(r, from, out, sizeof(out));
	goto out;
fail:
	if (fresh)
		wm_relay_slot_release(&r->t, c);
out:
	wm_memzero(eph, sizeof(eph));
	wm_memzero(&kp, sizeof(kp));
	wm_memzero(&maker, sizeof(maker));
}

static void on_initiation(struct wm_relay *r, const struct wm_relay_path *from,
			  uint8_t *msgbuf, uint64_t now)
{
	const struct wm_msg_initiation *msg = (const void *)msgbuf;
	uint8_t src[18];
	size_t srclen = source_bytes(src, &from->addr);
	enum wm_cookie_mac_state st;
	struct wm_noise_peer *peer;
	struct wm_handshake hs;

	memset(&hs, 0, sizeof(hs));
	/* mac1 first: a hash, before any randomness or DH. A stale cookie
	 * secret cannot validate a mac2, as WireGuard's cannot. */
	st = wm_cookie_validate(&r->checker, msg, sizeof(*msg), src, srclen,
				now);
	if (st == WM_COOKIE_INVALID_MAC) {
		drop(r, WM_RELAY_DROP_BAD_AUTH);
		goto out;
	}
	/* Under load, WireGuard's rule on every transport: no valid mac2, a
	 * cookie reply (a stream's address is proven already, but the
	 * round trip still paces a flood over many connections); with one,
	 * the source's budget before the DH. */
	if (under_load(r, now)) {
		if (st != WM_COOKIE_VALID_MAC_COOKIE) {
			send_cookie_reply(r, from, msg, src, srclen, now);
			goto out;
		}
		if (!within_budget(&r->limiter, &from->addr, now)) {
			drop(r, WM_RELAY_DROP_HANDSHAKE_LIMITED);
			goto out;
		}
	}
	r->hit = NULL;
	switch (wm_noise_consume_initiation(msg, &hs, &r->local, lookup, r,
					    &peer, now)) {
	case WM_NOISE_OK:
		respond(r, from, &hs, now);
		break;
	case WM_NOISE_UNKNOWN_PEER:
		not_allowed(r, from, now);
		break;
	/* WireGuard's limits, kept: a timestamp not newer than the key's
	 * last (TAI64N rounded to 2^24 ns), or an initiation within
	 * 1/WM_INITIATIONS_PER_SECOND of it, gets no answer. A client that
	 * reconnects at once (the last handshake < 20 ms ago) has to send a
	 * fresh initiation, as initiators do when one goes unanswered. */
	case WM_NOISE_REPLAY:
		drop(r, WM_RELAY_DROP_REPLAY);
		break;
	case WM_NOISE_FLOOD:
		drop(r, WM_RELAY_DROP_RATE_LIMITED);
		break;
	default:
		drop(r, WM_RELAY_DROP_BAD_AUTH);
		break;
	}
out:
	wm_memzero(&hs, sizeof(hs));
}

/* ------------------------------------------------------ transport data */

static bool online(const struct wm_relay_slot *c, uint64_t now)
{
	return c && wm_session_can_send(&c->cur, now) &&
	       wm_since(now, c->last_rx_ns) < IDLE_NS;
}

/* Seals the frame of plain_len bytes at dgram + 20 to c, in place, and
 * sends the datagram. 0 or -errno. */
static int seal_send(struct wm_relay *r, struct wm_relay_slot *c,
		     uint8_t *dgram, size_t plain_len, uint64_t now)
{
	/* mtu = length: relay sessions are never padded (relay/server.h) */
	size_t n = wm_session_seal(&c->cur, dgram + WM_RELAY_MAGIC_LEN,
				   dgram + WM_RELAY_MAGIC_LEN +
					   sizeof(struct wm_msg_data),
				   plain_len, plain_len, now);

	if (!n)
		return -ENOTCONN;
	/* The datagram may have come in as a forwarding frame. */
	memcpy(dgram, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	return r->ops.send(r->ops.ctx, &c->path, dgram, WM_RELAY_MAGIC_LEN + n);
}

static void send_gone(struct wm_relay *r, struct wm_relay_slot *c,
		      uint8_t *dgram, const uint8_t key[WM_KEY_SIZE],
		      uint64_t now)
{
	uint8_t *plain = dgram + WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_data);
	uint8_t k[WM_KEY_SIZE];
	size_t n;

	memcpy(k, key, WM_KEY_SIZE); /* key may point into plain */
	n = wm_relay_frame_build(plain, WM_RELAY_GONE, k, NULL, 0);
	if (seal_send(r, c, dgram, n, now) < 0)
		drop(r, WM_RELAY_DROP_SEND_FAILED);
	else
		r->n.gone_sent++;
}

/* Sends the body of body_len bytes at dgram + WM_RELAY_FWD_BODY (a SEND
 * in the clear, or opened) to the client dst as a RECV from c: a
 * forwarding frame when dst reads them (one pass over the header),
 * else sealed. Same length as what came in. 0 or -errno. */
static int deliver(struct wm_relay *r, struct wm_relay_slot *c,
		   struct wm_relay_slot *dst, uint8_t *dgram, size_t body_len,
		   uint64_t now)
{
	size_t n;

	if (!dst->fwd) {
		wm_relay_frame_build(dgram + WM_RELAY_MAGIC_LEN +
					     sizeof(struct wm_msg_data),
				     WM_RELAY_RECV, c->who->key,
				     dgram + WM_RELAY_FWD_BODY, body_len);
		return seal_send(r, dst, dgram, WM_RELAY_FRAME_HDR + body_len,
				 now);
	}
	n = wm_relay_fwd_seal(&dst->cur, dgram, WM_RELAY_RECV, c->who->key,
			      body_len, now);
	if (!n)
		return -ENOTCONN;
	return r->ops.send(r->ops.ctx, &dst->path, dgram, n);
}

/* A SEND from c to key with its body at dgram + WM_RELAY_FWD_BODY. */
static void forward(struct wm_relay *r, struct wm_relay_slot *c,
		    uint8_t *dgram, const uint8_t key[WM_KEY_SIZE],
		    size_t body_len, uint64_t now)
{
	struct wm_relay_allowed *dst = wm_relay_find_allowed(&r->t, key);

	if (!dst) {
		drop(r, WM_RELAY_DROP_DST_UNKNOWN);
		send_gone(r, c, dgram, key, now);
		return;
	}
	/* A client never needs the relay to reach itself; echoing would
	 * only let it bounce traffic off us. */
	if (dst->slot == c) {
		drop(r, WM_RELAY_DROP_MALFORMED);
		return;
	}
	if (!online(dst->slot, now)) {
		drop(r, WM_RELAY_DROP_DST_OFFLINE);
		send_gone(r, c, dgram, key, now);
		return;
	}
	/* Only type, index, counter, key and tag change: the body stays
	 * where it is, byte for byte. */
	if (deliver(r, c, dst->slot, dgram, body_len, now) < 0) {
		drop(r, WM_RELAY_DROP_SEND_FAILED);
		return;
	}
	r->n.frames_forwarded++;
	r->n.bytes_forwarded += body_len;
}

/* The client's first message under "next": it has the keys, so next
 * becomes the session we send with. Indices stay mapped to the client,
 * and their entries follow the sessions from next to cur to prev. */
static void confirm(struct wm_relay *r, struct wm_relay_slot *c)
{
	wm_relay_session_clear(&r->t, &c->prev);
	c->prev = c->cur;
	c->cur = c->next;
	wm_memzero(&c->next, sizeof(c->next));
	/* A new session may be another version of the client: it says
	 * again in its PINGs what it reads. */
	c->fwd = false;
	if (c->prev.valid)
		wm_index_update(&r->t.index, c->prev.kp.local_index, &c->prev);
	wm_index_update(&r->t.index, c->cur.kp.local_index, &c->cur);
}

static void announce(struct wm_relay *r, struct wm_relay_slot *c)
{
	char k[WM_KEY_B64_LEN + 1], a[WM_SOCKADDR_STRLEN];

	c->announced = true;
	logf_(r, "client %s connected over %s from %s",
	      key_text(k, c->who->key),
	      wm_relay_transport_name(c->path.transport),
	      wm_sockaddr_format(a, sizeof(a), &c->path.addr));
}

/* FNV-1a over what tells one source from another: the connection, or
 * the UDP address and port. Collisions only merge two sources' limits. */
static uint64_t source_key(const struct wm_relay_path *p)
{
	uint8_t b[4 + 18];
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t n;

	memcpy(b, &p->conn, 4);
	n = 4 + source_bytes(b + 4, &p->addr);
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h | 1; /* 0 marks an empty slot */
}

/* True when an "unknown session" answer may go to this source now (and
 * charges it): one per source per UNKNOWN_EVERY_NS, UNKNOWN_PER_SECOND
 * in all. */
static bool unknown_allowed(struct wm_relay *r, const struct wm_relay_path *from,
			    uint64_t now)
{
	const uint64_t cost = NS / UNKNOWN_PER_SECOND,
		       cap = UNKNOWN_PER_SECOND * cost;
	uint64_t key = source_key(from), *at;
	size_t slot = (size_t)(key >> 32) % UNKNOWN_SLOTS;

	at = &r->unknown[slot].at;
	if (r->unknown[slot].key == key && *at &&
	    now - *at < UNKNOWN_EVERY_NS)
		return false;
	if (r->unknown_refill_at == 0 || now - r->unknown_refill_at >= cap)
		r->unknown_credit = cap;
	else
		r->unknown_credit += now - r->unknown_refill_at;
	if (r->unknown_credit > cap)
		r->unknown_credit = cap;
	r->unknown_refill_at = now ? now : 1;
	if (r->unknown_credit < cost)
		return false;
	r->unknown_credit -= cost;
	r->unknown[slot].key = key;
	*at = now ? now : 1;
	return true;
}

/* A data message for a receiver index we do not know: tell the sender,
 * so a client of a relay that restarted handshakes again at once. The
 * answer is 12 bytes (the trigger at least 36), unauthenticated, goes
 * only back where the trigger came from, and is rate limited. */
static void unknown_session(struct wm_relay *r, const struct wm_relay_path *from,
			    const uint8_t *msg, uint64_t now)
{
	uint8_t out[WM_RELAY_UNKNOWN_SESSION_LEN];

	drop(r, WM_RELAY_DROP_BAD_AUTH);
	if (!unknown_allowed(r, from, now))
		return;
	wm_relay_unknown_session_build(
		out, msg + offsetof(struct wm_msg_data, receiver_index));
	r->n.unknown_session_sent++;
	send_raw(r, from, out, sizeof(out));
}

/* The session of a data message's receiver index (*c its client), or
 * NULL after answering "unknown session". */
static struct wm_session *session_of(struct wm_relay *r,
				     const struct wm_relay_path *from,
				     const uint8_t *msg,
				     struct wm_relay_slot **c, uint64_t now)
{
	const struct wm_index_entry *e =
		wm_index_lookup(&r->t.index, wm_transport_receiver(msg));

	if (!e) {
		unknown_session(r, from, msg, now);
		return NULL;
	}
	*c = e->owner;
	return e->session;
}

static bool rx_ok(struct wm_relay *r, enum wm_rx_result res)
{
	switch (res) {
	case WM_RX_OK:
		return true;
	case WM_RX_REPLAY:
		drop(r, WM_RELAY_DROP_REPLAY);
		break;
	case WM_RX_TOO_SHORT:
		drop(r, WM_RELAY_DROP_MALFORMED);
		break;
	default:
		drop(r, WM_RELAY_DROP_BAD_AUTH);
		break;
	}
	return false;
}

/* An authenticated message under s: only now may it confirm a session
 * or move the path. Not a straggler under the previous session, though:
 * it was sent before the client's last handshake, maybe on a TCP
 * connection the client has since left, whose close would then take it
 * offline. True when s is the client's current session. */
static bool authentic(struct wm_relay *r, struct wm_relay_slot *c,
		      const struct wm_session *s,
		      const struct wm_relay_path *from, uint64_t now)
{
	bool current = s != &c->prev;

	if (s == &c->next)
		confirm(r, c);
	if (current)
		c->path = *from;
	c->last_rx_ns = now;
	if (!c->announced)
		announce(r, c);
	return current;
}

/* A PING: PONG with the same body; a 9-byte one under the current
 * session says whether the client reads forwarding frames (proto.h). */
static void on_ping(struct wm_relay *r, struct wm_relay_slot *c, bool current,
		    uint8_t *dgram, const struct wm_relay_frame *f,
		    uint64_t now)
{
	uint8_t *plain = dgram + WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_data);
	bool offer = f->body_len == WM_RELAY_PING_LEN + 1 &&
		     f->body[WM_RELAY_PING_LEN] == WM_RELAY_OFFER_FWD;
	size_t n;

	if (current)
		c->fwd = offer;
	r->n.pings++;
	n = wm_relay_frame_build(plain, WM_RELAY_PONG, NULL, f->body,
				 f->body_len);
	if (offer)
		plain[n - 1] = WM_RELAY_ACCEPT_FWD;
	if (seal_send(r, c, dgram, n, now) < 0)
		drop(r, WM_RELAY_DROP_SEND_FAILED);
}

/* "WMR" 0x01: a sealed frame (or a keepalive) of a client's session. */
static void on_data(struct wm_relay *r, const struct wm_relay_path *from,
		    uint8_t *dgram, size_t len, uint64_t now)
{
	uint8_t *msg = dgram + WM_RELAY_MAGIC_LEN, *plain;
	size_t mlen = len - WM_RELAY_MAGIC_LEN, plen;
	struct wm_relay_slot *c = NULL;
	struct wm_session *s;
	struct wm_relay_frame f;
	bool current;

	if (mlen < WM_MSG_MIN_DATA) {
		drop(r, WM_RELAY_DROP_MALFORMED);
		return;
	}
	s = session_of(r, from, msg, &c, now);
	/* An expired session (WM_RX_EXPIRED) is refused before any AEAD. */
	if (!s || !rx_ok(r, wm_session_open(s, msg, mlen, now, &plain, &plen)))
		return;
	current = authentic(r, c, s, from, now);
	if (plen == 0)
		return; /* keepalive */
	if (!wm_relay_frame_parse(&f, plain, plen)) {
		drop(r, WM_RELAY_DROP_MALFORMED);
		return;
	}
	if (f.type != WM_RELAY_SEND && f.type != WM_RELAY_PING) {
		drop(r, WM_RELAY_DROP_MALFORMED);
		return;
	}
	if (!wm_relay_bucket_take(&r->t, c, plen, now)) {
		drop(r, WM_RELAY_DROP_RATE_LIMITED);
		return;
	}
	if (f.type == WM_RELAY_SEND)
		forward(r, c, dgram, f.key, f.body_len, now);
	else
		on_ping(r, c, current, dgram, &f, now);
}

/* "WMR" 0x02: a SEND as a forwarding frame (relay/fwd.h): its tag is
 * checked (one Poly1305 pass), nothing is decrypted. */
static void on_fwd(struct wm_relay *r, const struct wm_relay_path *from,
		   uint8_t *dgram, size_t len, uint64_t now)
{
	struct wm_relay_slot *c = NULL;
	struct wm_relay_frame f;
	struct wm_session *s;

	if (len < WM_RELAY_FWD_MIN || dgram[WM_RELAY_MAGIC_LEN] != WM_MSG_DATA) {
		drop(r, WM_RELAY_DROP_MALFORMED);
		return;
	}
	s = session_of(r, from, dgram + WM_RELAY_MAGIC_LEN, &c, now);
	if (!s || !rx_ok(r, wm_relay_fwd_open(s, dgram, len, WM_RELAY_SEND,
					      now, &f)))
		return;
	authentic(r, c, s, from, now);
	if (!wm_relay_bucket_take(&r->t, c, WM_RELAY_FRAME_HDR + f.body_len,
				  now)) {
		drop(r, WM_RELAY_DROP_RATE_LIMITED);
		return;
	}
	forward(r, c, dgram, f.key, f.body_len, now);
}

/* ------------------------------------------------------------- entry */

void wm_relay_input(struct wm_relay *r, const struct wm_relay_path *from,
		    uint8_t *buf, size_t len, uint64_t now_ns)
{
	const uint8_t *msg;
	size_t mlen;

	if (from->transport == WM_RELAY_UDP &&
	    (wm_stun_is_stun(buf, len) || wm_stun_is_classic_request(buf, len))) {
		on_stun(r, from, buf, len, now_ns);
		return;
	}
	if (from->alt_port) {
		drop(r, WM_RELAY_DROP_MALFORMED); /* that port is STUN only */
		return;
	}
	if (len < WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_header) ||
	    !wm_relay_is_relay(buf, len)) {
		drop(r, WM_RELAY_DROP_MALFORMED);
		return;
	}
	msg = buf + WM_RELAY_MAGIC_LEN;
	mlen = len - WM_RELAY_MAGIC_LEN;
	if (msg[1] || msg[2] || msg[3]) {
		drop(r, WM_RELAY_DROP_MALFORMED);
		return;
	}
	if (wm_relay_is_fwd(buf, len))
		on_fwd(r, from, buf, len, now_ns);
	else if (msg[0] == WM_MSG_INITIATION &&
		 mlen == sizeof(struct wm_msg_initiation))
		on_initiation(r, from, buf + WM_RELAY_MAGIC_LEN, now_ns);
	else if (msg[0] == WM_MSG_DATA)
		on_data(r, from, buf, len, now_ns);
	else
		drop(r, WM_RELAY_DROP_MALFORMED);
}

void wm_relay_tick(struct wm_relay *r, uint64_t now_ns)
{
	char k[WM_KEY_B64_LEN + 1];

	wm_ratelimit_gc(&r->limiter, now_ns);
	wm_ratelimit_gc(&r->stun_limiter, now_ns);
	for (size_t i = 0; i < r->t.n_pool && r->t.n_used; i++) {
		struct wm_relay_slot *c = &r->t.pool[i];
		struct wm_session *all[] = { &c->cur, &c->prev, &c->next };

		if (!c->who)
			continue;
		/* A transport may stamp times read after the caller's now
		 * (relay/server_tcp.c's tick serves deferred connections). */
		if (wm_since(now_ns, c->last_rx_ns) >= IDLE_NS) {
			if (c->announced)
				logf_(r, "client %s gone (idle)",
				      key_text(k, c->who->key));
			wm_relay_slot_release(&r->t, c);
			continue;
		}
		for (size_t j = 0; j < 3; j++)
			if (all[j]->valid &&
			    !wm_session_can_receive(all[j], now_ns))
				wm_relay_session_clear(&r->t, all[j]);
	}
}

void wm_relay_conn_closed(struct wm_relay *r, uint32_t conn)
{
	char k[WM_KEY_B64_LEN + 1];

	for (size_t i = 0; i < r->t.n_pool && r->t.n_used; i++) {
		struct wm_relay_slot *c = &r->t.pool[i];

		if (!c->who || c->path.transport == WM_RELAY_UDP ||
		    c->path.conn != conn)
			continue;
		if (c->announced)
			logf_(r, "client %s gone (%s connection closed)",
			      key_text(k, c->who->key),
			      wm_relay_transport_name(c->path.transport));
		wm_relay_slot_release(&r->t, c);
	}
}

void wm_relay_conn_activity(const struct wm_relay *r,
			    void (*fn)(void *ctx, uint32_t conn, uint64_t at_ns),
			    void *ctx)
{
	for (size_t i = 0; i < r->t.n_pool; i++) {
		const struct wm_relay_slot *c = &r->t.pool[i];

		if (c->who && c->path.transport != WM_RELAY_UDP)
			fn(ctx, c->path.conn, c->last_rx_ns);
	}
}

void wm_relay_get_counters(const struct wm_relay *r,
			   struct wm_relay_counters *out)
{
	*out = r->n;
	memset(out->clients, 0, sizeof(out->clients));
	for (size_t i = 0; i < r->t.n_pool; i++) {
		const struct wm_relay_slot *c = &r->t.pool[i];
		if (c->who && c->cur.valid && (unsigned)c->path.transport < WM_RELAY_TRANSPORTS)
			out->clients[c->path.transport]++;
	}
}

/* A client the reload drops (off the list, or past a smaller pool). */
static void reload_gone(void *ctx, const struct wm_relay_slot *c)
{
	struct wm_relay *r = ctx;
	char k[WM_KEY_B64_LEN + 1];

	if (c->announced)
		logf_(r, "client %s gone (dropped by the reload)",
		      key_text(k, c->who->key));
}

int wm_relay_reload(struct wm_relay *r, const struct wm_relay_params *p)
{
	size_t dropped;
	int err;

	err = wm_relay_tables_reload(&r->t, p->allowed, p->n_allowed,
				     p->max_clients, p->client_rate, &r->ops,
				     reload_gone, r, &dropped);
	if (err < 0)
		return err;
	r->hit = NULL;
	logf_(r, "reloaded: %zu allowed clients, %zu connected, %zu dropped",
	      r->t.n_allowed, r->t.n_used, dropped);
	return 0;
}
