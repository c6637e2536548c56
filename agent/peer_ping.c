/* See peer_ping.h. */
#include "agent/peer_ping.h"
#include "agent/device.h"
#include "agent/peer_disco.h"
#include "agent/peer_path.h"
#include "agent/wg/clock.h"
#include "crypto/ct.h"
#include "crypto/random.h"

#include <string.h>

static struct wm_ping_target *add(struct wm_ping_set *s, bool relay,
				  const union wm_sockaddr *to)
{
	struct wm_ping_target *t;

	if (s->n == WM_PING_MAX_TARGETS)
		return NULL;
	for (size_t i = 0; to && i < s->n; i++)
		if (!s->t[i].relay && wm_sockaddr_equal(&s->t[i].to, to))
			return NULL; /* the endpoint is a candidate too */
	t = &s->t[s->n++];
	memset(t, 0, sizeof(*t));
	t->relay = relay;
	if (to)
		t->to = *to;
	return t;
}

size_t wm_peer_ping_start(struct wm_device *dev, struct wm_peer *p,
			  struct wm_ping_set *s, uint64_t now)
{
	struct wm_ping_target *t;

	memset(s, 0, sizeof(*s));
	memcpy(s->key, p->public_key, sizeof(s->key));
	s->started_ns = now;
	if (wm_peer_has_endpoint(p) && (t = add(s, false, &p->endpoint)))
		t->current = p->shown == WM_VIA_DIRECT;
	for (size_t i = 0; i < p->disco.n_cand; i++)
		add(s, false, &p->disco.cand[i].addr);
	if (wm_peer_path_relay_up(dev, p) && (t = add(s, true, NULL))) {
		t->current = p->shown == WM_VIA_RELAY;
		t->relay_index = p->relay;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct wm_disco_msg msg = { .type = WM_DISCO_PING };

		t = &s->t[i];
		if (wm_random_bytes(t->txid, sizeof(t->txid)) < 0)
			continue;
		memcpy(msg.txid, t->txid, sizeof(t->txid));
		t->sent_ns = now;
		t->sent = wm_peer_disco_send(dev, p, &msg, &t->to);
	}
	if (s->n) {
		s->next = dev->pings;
		dev->pings = s;
	}
	return s->n;
}

void wm_peer_ping_stop(struct wm_device *dev, struct wm_ping_set *s)
{
	for (struct wm_ping_set **pp = &dev->pings; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			s->next = NULL;
			return;
		}
	}
}

bool wm_peer_ping_done(const struct wm_ping_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].sent && !s->t[i].rtt_ns)
			return false;
	return true;
}

bool wm_peer_ping_pong(struct wm_device *dev, const struct wm_peer *p,
		       const struct wm_disco_msg *pong,
		       const union wm_sockaddr *src, uint64_t now)
{
	for (struct wm_ping_set *s = dev->pings; s; s = s->next) {
		if (memcmp(s->key, p->public_key, sizeof(s->key)) != 0)
			continue;
		for (size_t i = 0; i < s->n; i++) {
			struct wm_ping_target *t = &s->t[i];

			/* The answer must come back the way the PING went:
			 * a PONG through the relay says nothing of an
			 * address, and the other way round. */
			if (!t->sent || t->rtt_ns || t->relay != !src ||
			    !wm_ct_memeq(t->txid, pong->txid, sizeof(t->txid)))
				continue;
			t->rtt_ns = wm_since(now, t->sent_ns);
			if (!t->rtt_ns)
				t->rtt_ns = 1;
			if (src)
				t->from = *src;
			return true;
		}
	}
	return false;
}
