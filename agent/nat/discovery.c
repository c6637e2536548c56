/* See discovery.h for the protocol's shape. */
#include "agent/nat/discovery.h"
#include "agent/wg/clock.h"

#include <stdlib.h>
#include <string.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)
#define SEEN_KEEP SEC(3 * WM_DISCO_MAX_SKEW_S)

void wm_discovery_ids(struct wm_disco_peer *d, const uint8_t peer_pub[32],
		      int64_t epoch)
{
	if (d->have_ids && d->id_epoch == epoch)
		return;
	for (int i = 0; i < 3; i++)
		wm_disco_pair_id(d->ids[i], d->id_key, peer_pub, epoch - 1 + i);
	d->id_epoch = epoch;
	d->have_ids = true;
}

bool wm_discovery_has_id(const struct wm_disco_peer *d,
			 const uint8_t id[WM_DISCO_ID])
{
	if (!d->have_ids)
		return false;
	for (int i = 0; i < 3; i++)
		if (memcmp(d->ids[i], id, WM_DISCO_ID) == 0)
			return true;
	return false;
}

/* The ring goes; every counter it held is now below the floor. */
void wm_discovery_free(struct wm_disco_peer *d)
{
	if (d->ctr_high > d->ctr_floor)
		d->ctr_floor = d->ctr_high;
	free(d->seen);
	d->seen = NULL;
}

void wm_discovery_reset(struct wm_disco_peer *d)
{
	memset(d->cand, 0, sizeof(d->cand));
	d->n_cand = 0;
	d->next_probe_ns = 0;
	d->backoff_s = 0;
	d->last_heartbeat_ns = 0;
	d->rtt_ns = 0;
	d->last_cmm_ns = 0;
}

void wm_discovery_restart(struct wm_disco_peer *d)
{
	d->backoff_s = 0;
	d->next_probe_ns = 0;
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

static struct wm_candidate *find(struct wm_disco_peer *d,
				 const union wm_sockaddr *a)
{
	for (size_t i = 0; i < d->n_cand; i++)
		if (wm_sockaddr_equal(&d->cand[i].addr, a))
			return &d->cand[i];
	return NULL;
}

void wm_discovery_add_candidate(struct wm_disco_peer *d,
				const union wm_sockaddr *a)
{
	struct wm_candidate *c;

	if (!usable(a) || find(d, a))
		return;
	if (d->n_cand == WM_DISCO_MAX_CANDIDATES) {
		/* Drop the oldest never-answering one (the list is in order
		 * of arrival; the oldest of all when every one answered);
		 * keep proven ones. */
		size_t victim = 0;
		for (size_t i = 0; i < d->n_cand; i++)
			if (!d->cand[i].pong_ns) {
				victim = i;
				break;
			}
		memmove(&d->cand[victim], &d->cand[victim + 1],
			(d->n_cand - victim - 1) * sizeof(d->cand[0]));
		c = &d->cand[d->n_cand - 1];
	} else {
		c = &d->cand[d->n_cand++];
	}
	memset(c, 0, sizeof(*c));
	c->addr = *a;
}

static void clear_out(struct wm_disco_out *out)
{
	out->n_send = 0;
	out->set_endpoint = false;
	out->direct_proven = false;
}

static struct wm_disco_send *queue(struct wm_disco_out *out,
				   enum wm_disco_type type,
				   const union wm_sockaddr *to)
{
	struct wm_disco_send *s;

	if (out->n_send == WM_DISCO_OUT_MAX)
		return NULL;
	s = &out->send[out->n_send++];
	memset(&s->msg, 0, sizeof(s->msg));
	s->msg.type = type;
	if (to)
		s->to = *to;
	else
		memset(&s->to, 0, sizeof(s->to));
	return s;
}

static void ping(struct wm_candidate *c, const struct wm_disco_view *v,
		 uint64_t now, struct wm_disco_out *out)
{
	struct wm_disco_send *s;

	if (v->random(c->txid, sizeof(c->txid)) < 0)
		return;
	s = queue(out, WM_DISCO_PING, &c->addr);
	if (!s)
		return;
	memcpy(s->msg.txid, c->txid, sizeof(c->txid));
	c->ping_sent_ns = now;
}

static void ping_all(struct wm_disco_peer *d, const struct wm_disco_view *v,
		     uint64_t now, struct wm_disco_out *out)
{
	for (size_t i = 0; i < d->n_cand; i++)
		ping(&d->cand[i], v, now, out);
}

static void call_me_maybe(const struct wm_disco_view *v,
			  struct wm_disco_out *out)
{
	struct wm_disco_send *s;
	size_t n = v->n_local;

	if (!v->relay_up || !(s = queue(out, WM_DISCO_CALL_ME_MAYBE, NULL)))
		return;
	if (n > WM_DISCO_MAX_CANDIDATES)
		n = WM_DISCO_MAX_CANDIDATES;
	s->msg.n_candidates = n;
	memcpy(s->msg.candidates, v->local, n * sizeof(v->local[0]));
	if (v->mapping && (s = queue(out, WM_DISCO_MAPPING, NULL)))
		s->msg.mapping = v->mapping;
}

static bool has_endpoint(const struct wm_disco_view *v)
{
	return v->endpoint.sa.sa_family != AF_UNSPEC;
}

static void probe(struct wm_disco_peer *d, const struct wm_disco_view *v,
		  uint64_t now, struct wm_disco_out *out)
{
	unsigned max = v->mode == WM_PATH_DIRECT ? WM_PROBE_DIRECT_MAX_S
						 : WM_PROBE_MAX_S;

	if (has_endpoint(v))
		wm_discovery_add_candidate(d, &v->endpoint);
	call_me_maybe(v, out);
	ping_all(d, v, now, out);
	d->backoff_s = d->backoff_s ? d->backoff_s * 2 : WM_PROBE_MIN_S;
	if (d->backoff_s > max)
		d->backoff_s = max;
	d->next_probe_ns = now + SEC(d->backoff_s);
}

/* The newest nonce is older than any replay could be: nothing in the
 * ring can match again, so it goes (replayed() starts a new one). */
static void forget_seen(struct wm_disco_peer *d, uint64_t now)
{
	const struct wm_disco_seen *s = d->seen;

	if (s && wm_since(now, s->e[(s->next + WM_DISCO_SEEN - 1) %
				    WM_DISCO_SEEN].at) >= SEEN_KEEP)
		wm_discovery_free(d);
}

void wm_discovery_tick(struct wm_disco_peer *d, const struct wm_disco_view *v,
		       uint64_t now, struct wm_disco_out *out)
{
	struct wm_candidate *c;

	clear_out(out);
	forget_seen(d, now);
	if (v->mode == WM_PATH_RELAY)
		return;
	if (v->direct_proven) {
		if (wm_since(now, d->last_heartbeat_ns) >= SEC(WM_HEARTBEAT_S)) {
			d->last_heartbeat_ns = now;
			wm_discovery_add_candidate(d, &v->endpoint);
			c = find(d, &v->endpoint);
			if (c)
				ping(c, v, now, out);
		}
		d->backoff_s = 0;
		return;
	}
	/* Without a relay and without candidates there is nobody to ask. */
	if (now >= d->next_probe_ns &&
	    (v->relay_up || d->n_cand || has_endpoint(v)))
		probe(d, v, now, out);
}

/* A CALL_ME_MAYBE makes us send up to 16 pings, so it must not become an
 * amplifier in a hostile peer's (or a replaying relay's) hands: at most
 * WM_CMM_BURST answered per probe interval. A burst is needed because a
 * peer's candidates change quickly at start (STUN answers arrive). */
static bool cmm_allowed(struct wm_disco_peer *d, uint64_t now)
{
	if (!d->last_cmm_ns || wm_since(now, d->last_cmm_ns) >= SEC(WM_PROBE_MIN_S)) {
		d->last_cmm_ns = now;
		d->cmm_in_window = 0;
	}
	return ++d->cmm_in_window <= WM_CMM_BURST;
}

bool wm_discovery_direct_failed(struct wm_disco_peer *d,
				const struct wm_disco_view *v, uint64_t now)
{
	if (v->mode != WM_PATH_AUTO || !v->direct_proven)
		return false;
	d->bad_endpoint = v->endpoint;
	d->bad_until = now + SEC(WM_BAD_ENDPOINT_S);
	d->next_probe_ns = 0;
	return true;
}

static void got_pong(struct wm_disco_peer *d, const struct wm_disco_view *v,
		     const struct wm_disco_msg *msg,
		     const union wm_sockaddr *src, uint64_t now,
		     struct wm_disco_out *out)
{
	struct wm_candidate *c = find(d, src);
	struct wm_candidate *cur;
	const union wm_sockaddr *ep = &v->endpoint;

	if (!c || c->ping_sent_ns == 0 ||
	    memcmp(c->txid, msg->txid, WM_DISCO_TXID) != 0)
		return; /* not an answer to a ping of ours */
	/* Answered: no longer outstanding, so nothing answers it again
	 * (not even a pong with the all-zero txid left behind). */
	c->pong_ns = now;
	c->rtt_ns = wm_since(now, c->ping_sent_ns);
	c->ping_sent_ns = 0;
	memset(c->txid, 0, sizeof(c->txid));
	if (now < d->bad_until && wm_sockaddr_equal(&c->addr, &d->bad_endpoint))
		return;
	/* Switch when nothing is proven yet, or this path is clearly
	 * faster than the one in use. */
	cur = find(d, &v->endpoint);
	if (!v->direct_proven || !cur || !cur->pong_ns ||
	    c->rtt_ns * 10 < cur->rtt_ns * 9 || cur == c) {
		out->set_endpoint = true;
		out->endpoint = c->addr;
		ep = &c->addr;
		d->rtt_ns = c->rtt_ns;
	}
	if (wm_sockaddr_equal(ep, src))
		out->direct_proven = true;
}

void wm_discovery_proven(struct wm_disco_peer *d, const struct wm_disco_view *v,
			 const union wm_sockaddr *src, uint64_t rtt, uint64_t now,
			 struct wm_disco_out *out)
{
	struct wm_candidate *c;

	clear_out(out);
	if (v->mode == WM_PATH_RELAY)
		return;
	wm_discovery_add_candidate(d, src);
	c = find(d, src);
	if (!c)
		return;
	c->pong_ns = now;
	c->rtt_ns = rtt;
	c->ping_sent_ns = 0;
	if (v->direct_proven)
		return; /* keep the path that works */
	out->set_endpoint = true;
	out->endpoint = *src;
	out->direct_proven = true;
	d->rtt_ns = rtt;
}

/* Each authentic message is taken once: its nonce is remembered for
 * longer than the version 1 clock check lets it live, and a version 2
 * counter is either in the ring or at most the floor (see
 * struct wm_disco_seen), so no clock needs to agree with the peer's.
 * Only authenticated messages get here, so the ring cannot be flooded by
 * strangers. */
static bool replayed(struct wm_disco_peer *d, const struct wm_disco_msg *msg,
		     const uint8_t *nonce, uint64_t now)
{
	struct wm_disco_seen *s = d->seen;
	uint64_t tag, ctr = msg->version == 2 ? (uint64_t)msg->sent_at : 0;

	if (msg->version == 2 && ctr <= d->ctr_floor)
		return true;
	/* Without memory for the nonce a replay could not be told: refuse. */
	if (!s && !(s = d->seen = calloc(1, sizeof(*s))))
		return true;
	memcpy(&tag, nonce, sizeof(tag));
	/* A sender never reuses a version 2 counter: its match alone is a
	 * replay, however old; version 1 matches the nonce while live. */
	for (size_t i = 0; i < WM_DISCO_SEEN; i++)
		if (ctr ? s->e[i].ctr == ctr
			: s->e[i].tag == tag && s->e[i].at && !s->e[i].ctr &&
				  wm_since(now, s->e[i].at) < SEEN_KEEP)
			return true;
	if (s->e[s->next].ctr > d->ctr_floor)
		d->ctr_floor = s->e[s->next].ctr;
	s->e[s->next].tag = tag;
	s->e[s->next].at = now ? now : 1;
	s->e[s->next].ctr = ctr;
	s->next = (s->next + 1) % WM_DISCO_SEEN;
	if (ctr > d->ctr_high)
		d->ctr_high = ctr;
	return false;
}

bool wm_discovery_receive(struct wm_disco_peer *d, const struct wm_disco_view *v,
			  const struct wm_disco_msg *msg, const uint8_t *nonce,
			  const union wm_sockaddr *src, uint64_t now,
			  struct wm_disco_out *out)
{
	struct wm_disco_send *s;

	clear_out(out);
	if (replayed(d, msg, nonce, now))
		return false;
	switch (msg->type) {
	case WM_DISCO_PING:
		s = queue(out, WM_DISCO_PONG, src);
		if (s) {
			memcpy(s->msg.txid, msg->txid, WM_DISCO_TXID);
			/* Through the relay there is no address to tell:
			 * 0.0.0.0:0 says so (the format has no "none"), and
			 * the PONG still times `wiremesh ping` over the
			 * relay. */
			s->msg.observed.in.sin_family = AF_INET;
		}
		if (src && s) {
			s->msg.observed = *src;
			if (v->mode != WM_PATH_RELAY)
				wm_discovery_add_candidate(d, src);
		}
		break;
	case WM_DISCO_PONG:
		if (src && v->mode != WM_PATH_RELAY)
			got_pong(d, v, msg, src, now, out);
		break;
	case WM_DISCO_CALL_ME_MAYBE:
		if (v->mode == WM_PATH_RELAY || !cmm_allowed(d, now))
			break;
		for (size_t i = 0; i < msg->n_candidates; i++)
			wm_discovery_add_candidate(d, &msg->candidates[i]);
		/* Simultaneous open: ping back at once, so our NAT sends
		 * first while theirs is sending to us. */
		ping_all(d, v, now, out);
		break;
	case WM_DISCO_BIRTHDAY:
	case WM_DISCO_MAPPING:
		break; /* nat/birthday.h's (agent/peer_disco.c) */
	}
	return true;
}
