/* See relays.h. */
#include "agent/relays.h"
#include "agent/nat/path.h"
#include "agent/wg/clock.h"

#include <errno.h>
#include <string.h>

#define MS(x) ((uint64_t)(x) * 1000000ULL)
#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

void wm_relays_init(struct wm_relays *rs, void *owner)
{
	memset(rs, 0, sizeof(*rs));
	rs->home = rs->prev_home = -1;
	rs->owner = owner;
}

int wm_relays_add(struct wm_relays *rs, const struct wm_relay_client_setup *su)
{
	struct wm_relay_client_setup mine = *su;
	struct wm_relay_slot *s;
	int r;

	if (rs->n == WM_RELAYS_MAX)
		return -ENOSPC;
	s = &rs->slot[rs->n];
	memset(s, 0, sizeof(*s));
	s->set = rs;
	s->index = (unsigned)rs->n;
	mine.on_tcp_ctx = s;
	r = wm_relay_client_init(&s->rc, &mine);
	rs->order[rs->n] = (uint8_t)rs->n;
	rs->n++; /* counted even on failure, so free() releases it */
	return r;
}

void wm_relays_free(struct wm_relays *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		wm_relay_client_free(&rs->slot[i].rc);
	rs->n = 0;
	rs->home = -1;
}

void wm_relays_tick(struct wm_relays *rs, uint64_t now)
{
	for (size_t i = 0; rs && i < rs->n; i++)
		wm_relay_client_tick(&rs->slot[i].rc, now);
}

/* The client's own probe (client.h): traffic went unanswered, it sent a
 * PING, and nothing authenticated came back since. It keeps the relay
 * for a few seconds more; we need not wait that long when another relay
 * answers. */
static enum wm_relay_health health_of(const struct wm_relay_client *rc,
				      uint64_t now)
{
	if (!wm_relay_client_up(rc))
		return WM_RELAY_DOWN;
	if (rc->probe_at && rc->last_rx < rc->probe_at &&
	    wm_since(now, rc->probe_at) >= MS(WM_RELAYS_SUSPECT_MS))
		return WM_RELAY_SUSPECT;
	return WM_RELAY_HEALTHY;
}

/* Health and the RTT; a session that drops forgets its RTT. */
static void measure(struct wm_relay_slot *s, uint64_t now)
{
	uint64_t rtt = s->rc.rtt_ns;

	s->health = health_of(&s->rc, now);
	if (s->health == WM_RELAY_DOWN) {
		s->srtt_ns = 0;
		s->n_samples = 0;
		s->rtt_seen = rtt;
	} else if (rtt && rtt != s->rtt_seen) {
		s->rtt_seen = rtt;
		s->samples[s->n_samples++ % WM_RELAYS_SAMPLES] = rtt;
		s->srtt_ns = rtt;
		for (unsigned k = 0; k < WM_RELAYS_SAMPLES && k < s->n_samples; k++)
			if (s->samples[k] < s->srtt_ns)
				s->srtt_ns = s->samples[k];
	}
	if (s->health != WM_RELAY_HEALTHY)
		s->healthy_since = 0;
	else if (!s->healthy_since)
		s->healthy_since = now ? now : 1;
}

/* Below this difference two relays count as equally fast. */
static uint64_t margin(uint64_t srtt)
{
	return srtt / 4 > MS(WM_RELAYS_MARGIN_MS) ? srtt / 4
						  : MS(WM_RELAYS_MARGIN_MS);
}

/* The healthy relay we would like as home: the earliest in the config
 * among those within the margin of the fastest. -1 when none is healthy. */
static int preferred(const struct wm_relays *rs)
{
	int best = -1, first = -1;

	for (size_t i = 0; i < rs->n; i++) {
		const struct wm_relay_slot *s = &rs->slot[i];

		if (s->health != WM_RELAY_HEALTHY)
			continue;
		if (first < 0)
			first = (int)i;
		if (s->srtt_ns &&
		    (best < 0 || s->srtt_ns < rs->slot[best].srtt_ns))
			best = (int)i;
	}
	if (best < 0)
		return first;
	for (size_t i = 0; i < rs->n; i++) {
		const struct wm_relay_slot *s = &rs->slot[i];

		if (s->health == WM_RELAY_HEALTHY && s->srtt_ns &&
		    s->srtt_ns <= rs->slot[best].srtt_ns +
					  margin(rs->slot[best].srtt_ns))
			return (int)i;
	}
	return best;
}

/* Is c clearly better than the healthy home h (the hysteresis)? */
static bool better(const struct wm_relays *rs, int c, int h, uint64_t now)
{
	const struct wm_relay_slot *sc = &rs->slot[c], *sh = &rs->slot[h];
	uint64_t m = margin(sh->srtt_ns);

	if (!sc->healthy_since ||
	    wm_since(now, sc->healthy_since) < SEC(WM_RELAYS_SETTLE_S))
		return false;
	if (!sc->srtt_ns || !sh->srtt_ns)
		return false;
	/* Delay only ever adds to a sample, so c's RTT is at most what we
	 * have; but the home's first sample after a handshake is often slow:
	 * leave it for being slower only on a few samples. */
	if (sc->srtt_ns + m < sh->srtt_ns &&
	    sh->n_samples >= WM_RELAYS_MIN_SAMPLES)
		return true;
	return c < h && sc->srtt_ns <= sh->srtt_ns + m / 2;
}

static int choose_home(const struct wm_relays *rs, uint64_t now)
{
	int h = rs->home, want = preferred(rs);

	if (want < 0) {
		/* Nothing healthy: a suspect home stays; else any relay up. */
		if (h >= 0 && rs->slot[h].health != WM_RELAY_DOWN)
			return h;
		for (size_t i = 0; i < rs->n; i++)
			if (rs->slot[i].health != WM_RELAY_DOWN)
				return (int)i;
		return -1;
	}
	if (h < 0 || rs->slot[h].health != WM_RELAY_HEALTHY)
		return want; /* failover */
	if (want != h && better(rs, want, h, now))
		return want;
	return h;
}

/* Home first, then by RTT (unknown last), then config order. */
static void sort_order(struct wm_relays *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rs->order[i] = (uint8_t)i;
	for (size_t i = 1; i < rs->n; i++) {
		uint8_t v = rs->order[i];
		size_t j = i;

		for (; j > 0; j--) {
			const struct wm_relay_slot *a = &rs->slot[v],
						   *b = &rs->slot[rs->order[j - 1]];
			bool before =
				(int)v == rs->home ||
				((int)b->index != rs->home && a->srtt_ns &&
				 (!b->srtt_ns || a->srtt_ns < b->srtt_ns));
			if (!before)
				break;
			rs->order[j] = rs->order[j - 1];
		}
		rs->order[j] = v;
	}
}

unsigned wm_relays_update(struct wm_relays *rs, uint64_t now)
{
	unsigned changed = 0;
	int h;

	if (!rs || !rs->n)
		return 0;
	for (size_t i = 0; i < rs->n; i++)
		measure(&rs->slot[i], now);
	h = choose_home(rs, now);
	if (h != rs->home) {
		rs->prev_home = rs->home;
		rs->home = h;
		rs->home_since = now;
		rs->home_moves++;
		changed |= WM_RELAYS_HOME_MOVED;
	}
	sort_order(rs);
	for (size_t i = 0; i < rs->n; i++) {
		struct wm_relay_slot *s = &rs->slot[i];
		bool up = s->health != WM_RELAY_DOWN, home = (int)i == rs->home;

		if (up == s->reported_up && home == s->reported_home &&
		    (!up || s->rc.transport == s->reported_transport))
			continue;
		s->reported_up = up;
		s->reported_home = home;
		s->reported_transport = s->rc.transport;
		changed |= 1u << i;
	}
	return changed;
}

int wm_relays_by_source(const struct wm_relays *rs,
			const union wm_sockaddr *src)
{
	for (size_t i = 0; rs && i < rs->n; i++)
		if (wm_sockaddr_equal(src, &rs->slot[i].rc.udp_addr))
			return (int)i;
	return -1;
}

struct wm_relay_client *wm_relays_client(struct wm_relays *rs, int i)
{
	if (!rs || i < 0 || (size_t)i >= rs->n)
		return NULL;
	return &rs->slot[i].rc;
}

bool wm_relays_up(const struct wm_relays *rs, int i)
{
	return rs && i >= 0 && (size_t)i < rs->n &&
	       wm_relay_client_up(&rs->slot[i].rc);
}

bool wm_relays_any_up(const struct wm_relays *rs)
{
	for (size_t i = 0; rs && i < rs->n; i++)
		if (wm_relay_client_up(&rs->slot[i].rc))
			return true;
	return false;
}

const char *wm_relay_health_name(enum wm_relay_health h)
{
	switch (h) {
	case WM_RELAY_SUSPECT: return "suspect";
	case WM_RELAY_HEALTHY: return "healthy";
	case WM_RELAY_DOWN: break;
	}
	return "down";
}

uint64_t wm_relays_rtt(const struct wm_relays *rs, int i)
{
	if (!rs || i < 0 || (size_t)i >= rs->n)
		return 0;
	return rs->slot[i].srtt_ns ? rs->slot[i].srtt_ns : rs->slot[i].rc.rtt_ns;
}

int wm_relays_send(struct wm_relays *rs, int i, const uint8_t key[32],
		   const uint8_t *body, size_t len)
{
	if (!rs || i < 0 || (size_t)i >= rs->n)
		return -ENOTCONN;
	return wm_relay_client_send(&rs->slot[i].rc, key, body, len);
}

static bool said_gone(const uint64_t gone[], int i, uint64_t now)
{
	return gone[i] && wm_since(now, gone[i]) < SEC(WM_RELAY_GONE_HOLD_S);
}

/* Health as of the last update, but never "up" for a client that went
 * down since, nor "down" for one that came up since. */
static enum wm_relay_health live(const struct wm_relays *rs, int i)
{
	if (!wm_relay_client_up(&rs->slot[i].rc))
		return WM_RELAY_DOWN;
	return rs->slot[i].health == WM_RELAY_DOWN ? WM_RELAY_HEALTHY
						   : rs->slot[i].health;
}

int wm_relays_pick(const struct wm_relays *rs, int current,
		   const uint64_t gone[WM_RELAYS_MAX], uint64_t now,
		   bool *all_gone)
{
	bool healthy_free = false;
	int up = -1;

	*all_gone = false;
	if (!rs || !rs->n)
		return -1;
	if (current >= (int)rs->n)
		current = -1;
	for (size_t i = 0; i < rs->n; i++)
		healthy_free |= live(rs, (int)i) == WM_RELAY_HEALTHY &&
				!said_gone(gone, (int)i, now);
	if (current >= 0 && live(rs, current) != WM_RELAY_DOWN &&
	    !said_gone(gone, current, now) &&
	    (live(rs, current) == WM_RELAY_HEALTHY || !healthy_free))
		return current;
	/* Healthy ones first, in order (home first), then suspect ones. */
	for (int want = WM_RELAY_HEALTHY; want >= WM_RELAY_SUSPECT; want--)
		for (size_t k = 0; k < rs->n; k++) {
			int i = rs->order[k];

			if ((int)live(rs, i) == want && !said_gone(gone, i, now))
				return i;
		}
	/* Every relay that is up said the peer is not there. */
	for (size_t k = 0; k < rs->n && up < 0; k++)
		if (live(rs, rs->order[k]) != WM_RELAY_DOWN)
			up = rs->order[k];
	if (up < 0)
		return -1;
	*all_gone = true;
	return current >= 0 && live(rs, current) != WM_RELAY_DOWN ? current : up;
}
