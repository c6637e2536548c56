/* See peer_disco.h. */
#include "agent/peer_disco.h"
#include "agent/peer_path.h"
#include "agent/send.h"
#include "agent/nat/birthday.h"
#include "agent/nat/discovery.h"
#include "agent/nat/stun_client.h"
#include "agent/relays.h"
#include "agent/wg/clock.h"
#include "crypto/encoding.h"
#include "crypto/random.h"

#include <stdio.h>

#include <string.h>

static bool peer_key(struct wm_device *dev, struct wm_peer *p)
{
	if (!p->disco.have_key) {
		if (!dev->has_private_key)
			return false;
		wm_disco_key(p->disco.key, p->noise.precomputed_ss);
		wm_disco_id_key(p->disco.id_key, p->noise.precomputed_ss);
		p->disco.have_ids = false;
		p->disco.have_key = true;
	}
	return true;
}

static const char *short_key(char out[12], const struct wm_peer *p)
{
	char b64[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(b64, p->public_key);
	snprintf(out, 12, "%.8s…", b64);
	return out;
}

/* The peer a version 2 message names by its pair id: the ids of every
 * peer around our epoch (computed once an epoch). A linear scan: disco
 * is rare next to data, and ids are public, so no constant time. */
static struct wm_peer *peer_by_id(struct wm_device *dev, const uint8_t *id,
				  int64_t wall_s)
{
	int64_t epoch = wm_disco_epoch(wall_s);

	for (struct wm_peer *p = dev->peers; p; p = p->next) {
		if (!peer_key(dev, p))
			return NULL;
		wm_discovery_ids(&p->disco, p->public_key, epoch);
		if (wm_discovery_has_id(&p->disco, id))
			return p;
	}
	return NULL;
}

static void view_of(struct wm_device *dev, const struct wm_peer *p,
		    uint64_t now, struct wm_disco_view *v)
{
	v->mode = p->path_mode;
	v->endpoint = p->endpoint;
	v->direct_proven = wm_peer_has_endpoint(p) &&
			   wm_path_direct_proven(&p->path, now);
	v->relay_up = wm_peer_path_relay_up(dev, p);
	v->local = dev->local_cands;
	v->n_local = dev->n_local_cands;
	v->random = wm_random_bytes;
	v->mapping = (uint8_t)wm_peer_disco_our_mapping(dev, now);
}

int wm_peer_disco_our_mapping(const struct wm_device *dev, uint64_t now)
{
	return dev->stun ? (int)wm_stun_client_mapping(dev->stun, now)
			 : WM_NAT_UNKNOWN;
}

void wm_peer_disco_bday_view(struct wm_device *dev, const struct wm_peer *p,
			     uint64_t now, struct wm_bday_view *v)
{
	v->mode = p->path_mode;
	v->enabled = !dev->birthday_off;
	v->direct_proven = wm_peer_has_endpoint(p) &&
			   wm_path_direct_proven(&p->path, now);
	v->relay_up = wm_peer_path_relay_up(dev, p);
	v->our_mapping = (uint8_t)wm_peer_disco_our_mapping(dev, now);
}

/* See peer_disco.h: through p's relay when to is AF_UNSPEC. */
bool wm_peer_disco_send(struct wm_device *dev, struct wm_peer *p,
			struct wm_disco_msg *msg, const union wm_sockaddr *to)
{
	uint8_t buf[WM_DISCO_MAX], nonce[24], id[WM_DISCO_ID];
	struct timespec wall = wm_wall_now();
	uint64_t ctr;
	size_t n;

	if (!peer_key(dev, p) || wm_random_bytes(nonce, sizeof(nonce)) < 0)
		return false;
	/* An older agent would only count it as malformed. */
	if (msg->type == WM_DISCO_MAPPING &&
	    (p->disco.speaks_v1 || dev->disco_v1_only))
		return false;
	if (p->disco.speaks_v1 || dev->disco_v1_only) {
		/* It reads only the old format: our key goes in clear. */
		msg->sent_at = wall.tv_sec;
		n = wm_disco_seal(buf, msg, dev->local.public_key,
				  p->disco.key, nonce);
	} else {
		ctr = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec;
		dev->disco_ctr = ctr > dev->disco_ctr ? ctr : dev->disco_ctr + 1;
		msg->sent_at = (int64_t)dev->disco_ctr;
		wm_disco_pair_id(id, p->disco.id_key, dev->local.public_key,
				 wm_disco_epoch(wall.tv_sec));
		n = wm_disco_seal_v2(buf, msg, id, p->disco.key, nonce);
	}
	if (!n)
		return false;
	if (to->sa.sa_family != AF_UNSPEC
		    ? wm_send_peer_udp(dev, p, to, buf, n) != 0
		    : wm_relays_send(dev->relays, p->relay, p->public_key, buf,
				     n) != 0)
		return false;
	dev->stats.disco_tx++;
	return true;
}

static void act(struct wm_device *dev, struct wm_peer *p,
		struct wm_disco_out *out, uint64_t now)
{
	for (size_t i = 0; i < out->n_send; i++)
		wm_peer_disco_send(dev, p, &out->send[i].msg, &out->send[i].to);
	if (out->set_endpoint)
		wm_peer_set_endpoint(p, &out->endpoint, WM_EP_DISCO);
	if (out->direct_proven) {
		p->path.direct_rx_ns = now;
		p->path.disco_rx_ns = now;
	}
	if (out->set_endpoint || out->direct_proven)
		wm_peer_path_update(dev, p, now);
}

/* Which peer sent buf, by its key (version 1) or pair id (version 2);
 * relayed ones (src NULL) only from the peer the relay named. */
static struct wm_peer *sender_of(struct wm_device *dev, const uint8_t *buf,
				 size_t len, const union wm_sockaddr *src,
				 struct wm_peer *from, int64_t wall_s)
{
	struct wm_peer *p = NULL;

	if (!wm_disco_is_disco(buf, len))
		return NULL;
	if (wm_disco_version(buf) == 1 && len >= WM_DISCO_HDR)
		p = wm_device_find_peer(dev, wm_disco_sender(buf));
	else if (wm_disco_version(buf) == 2 && len >= WM_DISCO_HDR_V2 &&
		 !dev->disco_v1_only &&
		 !(p = peer_by_id(dev, wm_disco_id(buf), wall_s)))
		dev->stats.disco_unknown_id++;
	if (!p || (!src && p != from) || !peer_key(dev, p))
		return NULL;
	return p;
}

/* The version the peer speaks follows its last authentic message; the
 * old one is counted and logged once per peer, and so is a clock that
 * is off ours (harmless to version 2, fatal to version 1's check). */
static void note_version(struct wm_device *dev, struct wm_peer *p,
			 const struct wm_disco_msg *msg, int64_t wall_s)
{
	char k[12];
	int64_t skew;

	if (msg->version == 1) {
		dev->stats.disco_v1_rx++;
		p->disco.speaks_v1 = true;
		if (!p->disco.told_v1 && !dev->disco_v1_only) {
			p->disco.told_v1 = true;
			fprintf(stderr, "%s: peer %s speaks disco version 1 (an "
					"older wiremesh): answering in it, which "
					"shows both static keys on the wire\n",
				dev->ifname, short_key(k, p));
		}
		return;
	}
	p->disco.speaks_v1 = false;
	skew = wall_s - (int64_t)((uint64_t)msg->sent_at / 1000000000u);
	if (skew <= WM_DISCO_MAX_SKEW_S && skew >= -WM_DISCO_MAX_SKEW_S)
		return;
	dev->stats.disco_clock_skew++;
	if (!p->disco.told_skew) {
		p->disco.told_skew = true;
		fprintf(stderr, "%s: peer %s: its clock is %lld s %s ours "
				"(discovery copes with it; check NTP)\n",
			dev->ifname, short_key(k, p),
			(long long)(skew < 0 ? -skew : skew),
			skew < 0 ? "ahead of" : "behind");
	}
}

/* True when the peer is known at target's IP (one of its candidates: it
 * told us, or we saw it there): a peer cannot point our probes at a
 * third party. */
static bool known_ip(const struct wm_disco_peer *d,
		     const union wm_sockaddr *target)
{
	for (size_t i = 0; i < d->n_cand; i++) {
		const union wm_sockaddr *c = &d->cand[i].addr;

		if (c->sa.sa_family != target->sa.sa_family)
			continue;
		if (c->sa.sa_family == AF_INET &&
		    c->in.sin_addr.s_addr == target->in.sin_addr.s_addr)
			return true;
		if (c->sa.sa_family == AF_INET6 &&
		    memcmp(&c->in6.sin6_addr, &target->in6.sin6_addr, 16) == 0)
			return true;
	}
	return false;
}

/* What birthday probing (nat/birthday.h) takes from an authentic
 * message: the peer's mapping, its request to probe, the pong to a probe
 * of ours, and on the hard side the socket a message came in on. */
static void birthday(struct wm_device *dev, struct wm_peer *p,
		     const struct wm_disco_msg *msg,
		     const union wm_sockaddr *src, uint64_t now,
		     struct wm_disco_out *out)
{
	struct wm_birthday *b = &p->bday;
	char k[12], a[WM_SOCKADDR_STRLEN];
	struct wm_disco_view dv;
	struct wm_bday_view v;

	wm_peer_disco_bday_view(dev, p, now, &v);
	if (msg->type == WM_DISCO_MAPPING)
		wm_birthday_peer_mapping(b, msg->mapping, now);
	if (src && dev->rx_bday_fd >= 0 && b->role == WM_BDAY_HARD &&
	    p->direct_fd != dev->rx_bday_fd) {
		/* The easy side's probe found one of our sockets: it carries
		 * this peer from now on (the answer below already leaves
		 * from it); agent/peer_birthday.c closes the others. */
		p->direct_fd = dev->rx_bday_fd;
		p->direct_family = dev->rx_bday_family;
		dev->stats.bday_wins++;
		fprintf(stderr, "%s: birthday: peer %s: attempt %u found a "
				"path from %s after %llu ms (hard side)\n",
			dev->ifname, short_key(k, p), b->attempts,
			wm_sockaddr_format(a, sizeof(a), src),
			(unsigned long long)((now - b->started_ns) / 1000000u));
		wm_birthday_won(b, now);
		/* Ping it from the winning socket at once. */
		wm_discovery_restart(&p->disco);
	}
	if (msg->type == WM_DISCO_BIRTHDAY && known_ip(&p->disco, &msg->target) &&
	    wm_birthday_easy_start(b, &v, &msg->target, wm_random_bytes, now)) {
		dev->stats.bday_attempts++;
		fprintf(stderr, "%s: birthday: peer %s is behind an endpoint-"
				"dependent NAT: probing random ports of %s "
				"(attempt %u, up to %d probes)\n",
			dev->ifname, short_key(k, p),
			wm_sockaddr_format(a, sizeof(a), &msg->target),
			b->attempts, WM_BDAY_PROBES);
	}
	if (msg->type == WM_DISCO_PONG && src &&
	    wm_birthday_is_probe(b, msg->txid)) {
		dev->stats.bday_wins++;
		fprintf(stderr, "%s: birthday: peer %s: attempt %u found a "
				"path to %s after %u probes, %llu ms\n",
			dev->ifname, short_key(k, p), b->attempts,
			wm_sockaddr_format(a, sizeof(a), src), b->sent,
			(unsigned long long)((now - b->started_ns) / 1000000u));
		view_of(dev, p, now, &dv);
		wm_discovery_proven(&p->disco, &dv, src, now - b->started_ns,
				    now, out);
		wm_birthday_won(b, now);
	}
}

struct wm_peer *wm_peer_disco_receive(struct wm_device *dev,
				      const uint8_t *buf, size_t len,
				      const union wm_sockaddr *src,
				      struct wm_peer *from, uint64_t now,
				      struct wm_disco_msg *msg_out)
{
	struct timespec wall = wm_wall_now();
	struct wm_disco_view v;
	struct wm_disco_out out;
	struct wm_disco_msg msg;
	enum wm_disco_result r;
	struct wm_peer *p;
	char k[12];

	p = sender_of(dev, buf, len, src, from, wall.tv_sec);
	if (!p) {
		dev->stats.disco_dropped++;
		return NULL;
	}
	r = wm_disco_open(&msg, buf, len, p->disco.key, wall.tv_sec);
	if (r == WM_DISCO_STALE) {
		/* Authentic but outside version 1's clock window: a replay, or
		 * an older agent whose clock is off ours. */
		dev->stats.disco_clock_skew++;
		if (!p->disco.told_skew) {
			p->disco.told_skew = true;
			fprintf(stderr, "%s: peer %s: disco version 1 message "
					"%lld s from our clock, refused (its clock "
					"is off, or a replay; check NTP)\n",
				dev->ifname, short_key(k, p),
				(long long)(wall.tv_sec - msg.sent_at));
		}
	}
	if (r != WM_DISCO_OK) {
		dev->stats.disco_dropped++;
		return NULL;
	}
	view_of(dev, p, now, &v);
	if (!wm_discovery_receive(&p->disco, &v, &msg, wm_disco_nonce(buf),
				  src, now, &out)) {
		dev->stats.disco_dropped++;
		return NULL;
	}
	note_version(dev, p, &msg, wall.tv_sec);
	dev->stats.disco_rx++;
	wm_peer_path_alive(p, now);
	/* For last_rx: authentic, from that endpoint or through the relay. */
	if (!src)
		p->rx_relay_ns = now;
	else if (wm_sockaddr_equal(src, &p->endpoint))
		p->rx_direct_ns = now;
	birthday(dev, p, &msg, src, now, &out);
	act(dev, p, &out, now);
	*msg_out = msg;
	return p;
}

void wm_peer_disco_tick(struct wm_device *dev, struct wm_peer *p,
			uint64_t now)
{
	struct wm_disco_view v;
	struct wm_disco_out out;

	view_of(dev, p, now, &v);
	wm_discovery_tick(&p->disco, &v, now, &out);
	act(dev, p, &out, now);
}

void wm_peer_disco_direct_failed(struct wm_device *dev, struct wm_peer *p,
				 uint64_t now)
{
	struct wm_disco_view v;

	view_of(dev, p, now, &v);
	if (!wm_discovery_direct_failed(&p->disco, &v, now))
		return;
	p->path.direct_rx_ns = 0;
	wm_peer_path_update(dev, p, now);
}

void wm_peer_disco_set_local(struct wm_device *dev,
			     const union wm_sockaddr *cands, size_t n)
{
	bool same;

	if (n > WM_DISCO_MAX_CANDIDATES)
		n = WM_DISCO_MAX_CANDIDATES;
	same = n == dev->n_local_cands;
	for (size_t i = 0; same && i < n; i++)
		same = wm_sockaddr_equal(&cands[i], &dev->local_cands[i]);
	if (same)
		return;
	memcpy(dev->local_cands, cands, n * sizeof(*cands));
	dev->n_local_cands = n;
	/* New addresses or a new NAT mapping: tell peers and probe now. */
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		wm_discovery_restart(&p->disco);
}
