/* See discovery.h for the protocol's shape. */
#include "agent/nat/discovery.h"
#include "agent/wg/clock.h"
#include "agent/datapath.h"
#include "agent/device.h"
#include "agent/nat/disco.h"
#include "agent/nat/path.h"
#include "agent/relay/client.h"
#include "crypto/random.h"

#include <string.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

static bool peer_key(struct wm_peer *p)
{
	if (!p->disco.have_key) {
		if (!p->dev->has_private_key)
			return false;
		wm_disco_key(p->disco.key, p->noise.precomputed_ss);
		p->disco.have_key = true;
	}
	return true;
}

void wm_discovery_reset(struct wm_peer *p)
{
	struct wm_peer_disco *d = &p->disco;

	/* The key and the replay memory outlive a reset. */
	memset(d->cand, 0, sizeof(d->cand));
	d->n_cand = 0;
	d->next_probe_ns = 0;
	d->backoff_s = 0;
	d->last_heartbeat_ns = 0;
	d->rtt_ns = 0;
	d->last_cmm_ns = 0;
}

/* Addresses a peer may never make us probe: loopback, link-local,
 * unspecified, multicast and broadcast (a CALL_ME_MAYBE must not turn us
 * against our own host or link). */
static bool usable(const union wm_sockaddr *a)
{
	if (a->sa.sa_family == AF_INET) {
		const uint8_t *b = (const uint8_t *)&a->in.sin_addr;
		return a->in.sin_port && b[0] != 0 && b[0] != 127 &&
		       !(b[0] == 169 && b[1] == 254) && b[0] < 224;
	}
	if (a->sa.sa_family == AF_INET6) {
		const struct in6_addr *x = &a->in6.sin6_addr;
		return a->in6.sin6_port && !IN6_IS_ADDR_LOOPBACK(x) &&
		       !IN6_IS_ADDR_UNSPECIFIED(x) && !IN6_IS_ADDR_LINKLOCAL(x) &&
		       !IN6_IS_ADDR_MULTICAST(x) && !IN6_IS_ADDR_V4MAPPED(x);
	}
	return false;
}

static struct wm_candidate *find(struct wm_peer *p, const union wm_sockaddr *a)
{
	for (size_t i = 0; i < p->disco.n_cand; i++)
		if (wm_sockaddr_equal(&p->disco.cand[i].addr, a))
			return &p->disco.cand[i];
	return NULL;
}

void wm_discovery_add_candidate(struct wm_peer *p, const union wm_sockaddr *a)
{
	struct wm_peer_disco *d = &p->disco;
	struct wm_candidate *c;

	if (!usable(a) || find(p, a))
		return;
	if (d->n_cand == WM_DISCO_MAX_CANDIDATES) {
		/* Replace the oldest never-answering one; keep proven ones. */
		size_t victim = 0;
		for (size_t i = 0; i < d->n_cand; i++)
			if (!d->cand[i].pong_ns) {
				victim = i;
				break;
			}
		c = &d->cand[victim];
	} else {
		c = &d->cand[d->n_cand++];
	}
	memset(c, 0, sizeof(*c));
	c->addr = *a;
}

/* Seals msg for p and sends it to addr, or through the relay. */
static void send_msg(struct wm_peer *p, struct wm_disco_msg *msg,
		     const union wm_sockaddr *to)
{
	struct wm_device *dev = p->dev;
	uint8_t buf[WM_DISCO_MAX], nonce[24];
	struct timespec wall = wm_wall_now();
	size_t n;

	if (!peer_key(p) || wm_random_bytes(nonce, sizeof(nonce)) < 0)
		return;
	msg->sent_at = wall.tv_sec;
	n = wm_disco_seal(buf, msg, dev->local.public_key, p->disco.key, nonce);
	if (!n)
		return;
	if (to ? wm_send_udp(dev, to, buf, n) == 0
	       : wm_relay_client_send(dev->relay, p->public_key, buf, n) == 0)
		dev->stats.disco_tx++;
}

static void ping(struct wm_peer *p, struct wm_candidate *c, uint64_t now)
{
	struct wm_disco_msg msg = { .type = WM_DISCO_PING };

	if (wm_random_bytes(c->txid, sizeof(c->txid)) < 0)
		return;
	memcpy(msg.txid, c->txid, sizeof(msg.txid));
	c->ping_sent_ns = now;
	send_msg(p, &msg, &c->addr);
}

static void ping_all(struct wm_peer *p, uint64_t now)
{
	for (size_t i = 0; i < p->disco.n_cand; i++)
		ping(p, &p->disco.cand[i], now);
}

static void call_me_maybe(struct wm_peer *p)
{
	struct wm_device *dev = p->dev;
	struct wm_disco_msg msg = { .type = WM_DISCO_CALL_ME_MAYBE };

	if (!wm_relay_client_up(dev->relay))
		return;
	msg.n_candidates = dev->n_local_cands;
	memcpy(msg.candidates, dev->local_cands,
	       dev->n_local_cands * sizeof(dev->local_cands[0]));
	send_msg(p, &msg, NULL);
}

static bool direct_proven(const struct wm_peer *p, uint64_t now)
{
	return p->direct_rx_ns && wm_since(now, p->direct_rx_ns) < SEC(WM_DIRECT_TRUST_S);
}

static void probe(struct wm_peer *p, uint64_t now)
{
	struct wm_peer_disco *d = &p->disco;

	if (p->endpoint.sa.sa_family != AF_UNSPEC)
		wm_discovery_add_candidate(p, &p->endpoint);
	call_me_maybe(p);
	ping_all(p, now);
	d->backoff_s = d->backoff_s ? d->backoff_s * 2 : WM_PROBE_MIN_S;
	if (d->backoff_s > WM_PROBE_MAX_S)
		d->backoff_s = WM_PROBE_MAX_S;
	d->next_probe_ns = now + SEC(d->backoff_s);
}

static void tick_peer(struct wm_peer *p, uint64_t now)
{
	struct wm_peer_disco *d = &p->disco;
	struct wm_candidate *c;

	if (p->path_mode == WM_PATH_RELAY)
		return;
	if (direct_proven(p, now)) {
		if (wm_since(now, d->last_heartbeat_ns) >= SEC(WM_HEARTBEAT_S)) {
			d->last_heartbeat_ns = now;
			wm_discovery_add_candidate(p, &p->endpoint);
			c = find(p, &p->endpoint);
			if (c)
				ping(p, c, now);
		}
		d->backoff_s = 0;
		return;
	}
	/* Without a relay and without candidates there is nobody to ask. */
	if (now >= d->next_probe_ns &&
	    (wm_relay_client_up(p->dev->relay) || d->n_cand ||
	     p->endpoint.sa.sa_family != AF_UNSPEC))
		probe(p, now);
	wm_path_update(p, now);
}

void wm_discovery_tick(struct wm_device *dev, uint64_t now_ns)
{
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		tick_peer(p, now_ns);
}

void wm_discovery_set_local(struct wm_device *dev,
			    const union wm_sockaddr *cands, size_t n)
{
	bool same = n == dev->n_local_cands;

	if (n > WM_DISCO_MAX_CANDIDATES)
		n = WM_DISCO_MAX_CANDIDATES;
	for (size_t i = 0; same && i < n; i++)
		same = wm_sockaddr_equal(&cands[i], &dev->local_cands[i]);
	if (same)
		return;
	memcpy(dev->local_cands, cands, n * sizeof(*cands));
	dev->n_local_cands = n;
	/* New addresses or a new NAT mapping: tell peers and probe now. */
	for (struct wm_peer *p = dev->peers; p; p = p->next) {
		p->disco.backoff_s = 0;
		p->disco.next_probe_ns = 0;
	}
}

/* A CALL_ME_MAYBE makes us send up to 16 pings, so it must not become an
 * amplifier in a hostile peer's (or a replaying relay's) hands: at most
 * WM_CMM_BURST answered per probe interval. A burst is needed because a
 * peer's candidates change quickly at start (STUN answers arrive). */
static bool cmm_allowed(struct wm_peer *p, uint64_t now)
{
	struct wm_peer_disco *d = &p->disco;

	if (!d->last_cmm_ns || wm_since(now, d->last_cmm_ns) >= SEC(WM_PROBE_MIN_S)) {
		d->last_cmm_ns = now;
		d->cmm_in_window = 0;
	}
	return ++d->cmm_in_window <= WM_CMM_BURST;
}

void wm_discovery_direct_failed(struct wm_peer *p, uint64_t now)
{
	if (p->path_mode != WM_PATH_AUTO || !direct_proven(p, now))
		return;
	p->disco.bad_endpoint = p->endpoint;
	p->disco.bad_until = now + SEC(WM_BAD_ENDPOINT_S);
	p->direct_rx_ns = 0;
	p->disco.next_probe_ns = 0;
	wm_path_update(p, now);
}

static void got_pong(struct wm_peer *p, const struct wm_disco_msg *msg,
		     const union wm_sockaddr *src, uint64_t now)
{
	struct wm_candidate *c = find(p, src);
	struct wm_candidate *cur;

	if (!c || c->ping_sent_ns == 0 ||
	    memcmp(c->txid, msg->txid, WM_DISCO_TXID) != 0)
		return; /* not an answer to a ping of ours */
	c->pong_ns = now;
	c->rtt_ns = wm_since(now, c->ping_sent_ns);
	memset(c->txid, 0, sizeof(c->txid));
	if (now < p->disco.bad_until &&
	    wm_sockaddr_equal(&c->addr, &p->disco.bad_endpoint))
		return;
	/* Switch when nothing is proven yet, or this path is clearly
	 * faster than the one in use. */
	cur = find(p, &p->endpoint);
	if (!direct_proven(p, now) || !cur || !cur->pong_ns ||
	    c->rtt_ns * 10 < cur->rtt_ns * 9 || cur == c) {
		p->endpoint = c->addr;
		p->disco.rtt_ns = c->rtt_ns;
	}
	if (wm_sockaddr_equal(&p->endpoint, src))
		p->direct_rx_ns = now;
	wm_path_update(p, now);
}

/* Each authentic message is taken once: its nonce is remembered for
 * longer than the clock check lets it live. Only authenticated messages
 * get here, so the ring cannot be flooded by strangers. */
static bool replayed(struct wm_peer *p, const uint8_t *nonce, uint64_t now)
{
	struct wm_peer_disco *d = &p->disco;
	uint64_t tag;

	memcpy(&tag, nonce, sizeof(tag));
	for (size_t i = 0; i < WM_DISCO_SEEN; i++)
		if (d->seen[i].tag == tag && d->seen[i].at &&
		    wm_since(now, d->seen[i].at) < SEC(3 * WM_DISCO_MAX_SKEW_S))
			return true;
	d->seen[d->seen_next].tag = tag;
	d->seen[d->seen_next].at = now ? now : 1;
	d->seen_next = (d->seen_next + 1) % WM_DISCO_SEEN;
	return false;
}

void wm_discovery_receive(struct wm_device *dev, const uint8_t *buf,
			  size_t len, const union wm_sockaddr *src)
{
	struct wm_disco_msg msg, reply = { .type = WM_DISCO_PONG };
	struct timespec wall = wm_wall_now();
	struct wm_peer *p;
	uint64_t now = wm_now_ns();

	if (len < WM_DISCO_HDR ||
	    !(p = wm_device_find_peer(dev, wm_disco_sender(buf))) ||
	    (!src && p != dev->relayed_from) || !peer_key(p) ||
	    wm_disco_open(&msg, buf, len, p->disco.key, wall.tv_sec) != WM_DISCO_OK ||
	    replayed(p, buf + WM_DISCO_MAGIC_LEN + WM_KEY_SIZE, now)) {
		dev->stats.disco_dropped++;
		return;
	}
	dev->stats.disco_rx++;
	switch (msg.type) {
	case WM_DISCO_PING:
		memcpy(reply.txid, msg.txid, WM_DISCO_TXID);
		if (src) {
			reply.observed = *src;
			if (p->path_mode != WM_PATH_RELAY)
				wm_discovery_add_candidate(p, src);
		}
		send_msg(p, &reply, src);
		break;
	case WM_DISCO_PONG:
		if (src && p->path_mode != WM_PATH_RELAY)
			got_pong(p, &msg, src, now);
		break;
	case WM_DISCO_CALL_ME_MAYBE:
		if (p->path_mode == WM_PATH_RELAY || !cmm_allowed(p, now))
			break;
		for (size_t i = 0; i < msg.n_candidates; i++)
			wm_discovery_add_candidate(p, &msg.candidates[i]);
		/* Simultaneous open: ping back at once, so our NAT sends
		 * first while theirs is sending to us. */
		ping_all(p, now);
		break;
	}
}
