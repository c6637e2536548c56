/*
 * Several relays (agent/relays.h, agent/peer_path.c): the home relay by
 * smoothed RTT with the config order as tie-break, failover as soon as
 * the home stops answering traffic, the return of a better home only once
 * it has settled (hysteresis), and a peer's relay: home first, the next
 * one after a "gone", the relay a frame came through, back to home when
 * the home moves. The clients are driven by hand (state, RTT samples, an
 * unanswered probe), on a virtual clock.
 */
#include "check.h"
#include "agent/device.h"
#include "agent/peer.h"
#include "agent/peer_path.h"
#include "agent/relays.h"

#define MS(x) ((uint64_t)(x) * 1000000ULL)
#define S(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

static struct wm_relays *new_set(size_t n)
{
	struct wm_relays *rs = calloc(1, sizeof(*rs));

	wm_relays_init(rs, NULL);
	rs->n = n;
	for (size_t i = 0; i < n; i++)
		rs->slot[i].index = (unsigned)i;
	return rs;
}

static void up(struct wm_relays *rs, int i, uint64_t rtt, uint64_t now)
{
	struct wm_relay_client *rc = &rs->slot[i].rc;

	rc->state = WM_RELAY_UP;
	rc->session.valid = true;
	rc->rtt_ns = rtt;
	rc->last_rx = now;
	rc->probe_at = 0;
}

static void down(struct wm_relays *rs, int i)
{
	rs->slot[i].rc.state = WM_RELAY_IDLE;
	rs->slot[i].rc.session.valid = false;
}

/* Traffic went out, the client's PING went unanswered since probe_at. */
static void unanswered(struct wm_relays *rs, int i, uint64_t probe_at)
{
	struct wm_relay_client *rc = &rs->slot[i].rc;

	rc->probe_at = probe_at;
	if (rc->last_rx >= probe_at)
		rc->last_rx = probe_at - 1;
}

TEST(home_by_latency_then_order)
{
	struct wm_relays *rs = new_set(3);
	uint64_t t = S(100);
	unsigned ch;

	CHECK(wm_relays_update(rs, t) == 0 && rs->home == -1);
	/* Equally fast (within the margin): the first in the config. */
	up(rs, 0, MS(1), t);
	up(rs, 1, MS(2), t);
	ch = wm_relays_update(rs, t);
	CHECK(rs->home == 0);
	CHECK((ch & WM_RELAYS_HOME_MOVED) && (ch & 1) && (ch & 2) && !(ch & 4));
	CHECK(wm_relays_update(rs, t) == 0);
	CHECK(rs->order[0] == 0 && rs->order[1] == 1);

	/* A third one, much faster: home only once it has settled. */
	up(rs, 2, MS(40), t);
	wm_relays_update(rs, t);
	up(rs, 0, MS(60), t);
	up(rs, 1, MS(80), t);
	for (int k = 0; k < 20; k++) {
		rs->slot[0].rc.rtt_ns = MS(60) + (uint64_t)k;
		rs->slot[1].rc.rtt_ns = MS(80) + (uint64_t)k;
		rs->slot[2].rc.rtt_ns = MS(4) + (uint64_t)k;
		wm_relays_update(rs, t);
	}
	CHECK(rs->home == 0); /* relay 2 healthy for 0 s so far */
	CHECK(rs->order[0] == 0 && rs->order[1] == 2 && rs->order[2] == 1);
	wm_relays_update(rs, t + S(WM_RELAYS_SETTLE_S) - 1);
	CHECK(rs->home == 0);
	ch = wm_relays_update(rs, t + S(WM_RELAYS_SETTLE_S));
	CHECK(rs->home == 2 && (ch & WM_RELAYS_HOME_MOVED));
	CHECK((ch & 1) && (ch & 4) && !(ch & 2));
	CHECK(rs->order[0] == 2 && rs->order[1] == 0 && rs->order[2] == 1);
	free(rs);
}

TEST(failover_and_return)
{
	struct wm_relays *rs = new_set(2);
	uint64_t t = S(100);

	up(rs, 0, MS(1), t);
	up(rs, 1, MS(1) + 5, t);
	wm_relays_update(rs, t);
	rs->slot[1].rc.rtt_ns = MS(1) + 6; /* a second sample */
	wm_relays_update(rs, t);
	CHECK(rs->home == 0);

	/* The home stops answering traffic: its probe has waited long
	 * enough, the other relay answers. The home moves at once. */
	unanswered(rs, 0, t + S(2));
	wm_relays_update(rs, t + S(2) + MS(WM_RELAYS_SUSPECT_MS) - 1);
	CHECK(rs->home == 0);
	CHECK(wm_relays_update(rs, t + S(3)) & WM_RELAYS_HOME_MOVED);
	CHECK(rs->home == 1);

	/* It dies, then comes back: home again once settled, since equally
	 * fast and first in the config. */
	down(rs, 0);
	wm_relays_update(rs, t + S(6));
	CHECK(rs->home == 1 && rs->slot[0].srtt_ns == 0);
	up(rs, 0, MS(1) + 7, t + S(10));
	wm_relays_update(rs, t + S(10));
	CHECK(rs->home == 1);
	wm_relays_update(rs, t + S(10) + S(WM_RELAYS_SETTLE_S) - 1);
	CHECK(rs->home == 1);
	CHECK(wm_relays_update(rs, t + S(10) + S(WM_RELAYS_SETTLE_S)) &
	      WM_RELAYS_HOME_MOVED);
	CHECK(rs->home == 0);

	/* Both dead: no home; one suspect relay is better than none. */
	down(rs, 0);
	down(rs, 1);
	wm_relays_update(rs, t + S(20));
	CHECK(rs->home == -1 && !wm_relays_any_up(rs));
	up(rs, 1, MS(1), t + S(21));
	unanswered(rs, 1, t + S(21));
	wm_relays_update(rs, t + S(23));
	CHECK(rs->home == 1 && rs->slot[1].health == WM_RELAY_SUSPECT);
	free(rs);
}

TEST(peer_relay)
{
	struct wm_relays *rs = new_set(3);
	uint64_t gone[WM_RELAYS_MAX] = { 0 }, t = S(100);
	bool all;

	CHECK(wm_relays_pick(rs, -1, gone, t, &all) == -1 && !all);
	up(rs, 0, MS(1), t);
	up(rs, 1, MS(2), t);
	up(rs, 2, MS(3), t);
	wm_relays_update(rs, t);
	CHECK(wm_relays_pick(rs, -1, gone, t, &all) == 0 && !all);
	/* A peer stays on the relay it is on while that one is fine. */
	CHECK(wm_relays_pick(rs, 2, gone, t, &all) == 2);
	/* "gone" from 0: the next by RTT; then from 1: the last one. */
	gone[0] = t;
	CHECK(wm_relays_pick(rs, 0, gone, t, &all) == 1 && !all);
	gone[1] = t;
	CHECK(wm_relays_pick(rs, 1, gone, t, &all) == 2 && !all);
	/* Every relay said gone: all_gone, the best one kept. */
	gone[2] = t;
	CHECK(wm_relays_pick(rs, 2, gone, t, &all) == 2 && all);
	/* "gone" is held WM_RELAY_GONE_HOLD_S. */
	CHECK(wm_relays_pick(rs, -1, gone, t + S(WM_RELAY_GONE_HOLD_S), &all) ==
		      0 && !all);
	memset(gone, 0, sizeof(gone));
	/* A suspect relay is left for a healthy one, but kept if none is. */
	unanswered(rs, 2, t);
	wm_relays_update(rs, t + S(2));
	CHECK(wm_relays_pick(rs, 2, gone, t + S(2), &all) == 0);
	down(rs, 0);
	down(rs, 1);
	wm_relays_update(rs, t + S(2));
	CHECK(wm_relays_pick(rs, 2, gone, t + S(2), &all) == 2);
	down(rs, 2);
	CHECK(wm_relays_pick(rs, 2, gone, t + S(2), &all) == -1);
	/* A client that came up since the last update counts as up. */
	up(rs, 1, MS(2), t + S(3));
	CHECK(wm_relays_pick(rs, -1, gone, t + S(3), &all) == 1 && !all);
	free(rs);
}

/* Through peer_path.c: "gone" moves the peer without the path hearing it
 * until no relay is left; a frame through a relay moves it there; a home
 * that moves takes every peer along. */
TEST(peer_path_across_relays)
{
	struct wm_device *dev = calloc(1, sizeof(*dev));
	struct wm_peer *p = calloc(1, sizeof(*p));
	struct wm_relays *rs = new_set(2);
	uint64_t t = S(100);

	p->relay = -1;
	p->path_mode = WM_PATH_AUTO;
	dev->peers = p;
	dev->relays = rs;
	up(rs, 0, MS(1), t);
	up(rs, 1, MS(2), t);
	wm_relays_update(rs, t);
	wm_peer_path_update(dev, p, t);
	CHECK(p->via == WM_VIA_RELAY && p->relay == 0);

	wm_peer_path_gone(dev, p, 0, t);
	CHECK(p->via == WM_VIA_RELAY && p->relay == 1);
	CHECK(p->path.relay_gone_ns == 0);
	wm_peer_path_gone(dev, p, 1, t);
	CHECK(p->path.relay_gone_ns == t && p->via == WM_VIA_RELAY);

	/* The peer writes through relay 0 after all. */
	wm_peer_path_relay_frame(dev, p, 0, t + S(1));
	CHECK(p->relay == 0 && p->relay_gone[0] == 0);
	wm_peer_path_relay_frame(dev, p, 1, t + S(1));
	CHECK(p->relay == 1);

	/* The home moves (relay 0 was home): the peer goes back to it. */
	wm_peer_path_rehome(dev, t + S(1));
	CHECK(p->relay == 0);
	/* Relay 0 dies: the peer moves on at its next decision. */
	down(rs, 0);
	wm_relays_update(rs, t + S(2));
	wm_peer_path_update(dev, p, t + S(2));
	CHECK(p->relay == 1 && p->via == WM_VIA_RELAY);
	CHECK(wm_peer_path_relay_up(dev, p));

	free(rs);
	free(p);
	free(dev);
}

/* A home whose one sample is slow (the first after a handshake often is)
 * is not left for a faster relay until WM_RELAYS_MIN_SAMPLES agree. */
TEST(one_slow_sample)
{
	struct wm_relays *rs = new_set(2);
	uint64_t t = S(100);

	up(rs, 0, MS(40), t);
	wm_relays_update(rs, t);
	up(rs, 1, MS(1), t);
	wm_relays_update(rs, t);
	CHECK(rs->home == 0);
	wm_relays_update(rs, t + S(WM_RELAYS_SETTLE_S + 1));
	CHECK(rs->home == 0);
	rs->slot[0].rc.rtt_ns = MS(1) + 1; /* it was the first sample */
	wm_relays_update(rs, t + S(5));
	CHECK(rs->home == 0 && rs->slot[0].srtt_ns == MS(1) + 1);
	rs->slot[0].rc.rtt_ns = MS(30); /* truly slow now: both say so */
	wm_relays_update(rs, t + S(10));
	CHECK(rs->home == 0); /* the lowest of its samples is still 1 ms */
	free(rs);

	rs = new_set(2);
	up(rs, 0, MS(40), t);
	wm_relays_update(rs, t);
	up(rs, 1, MS(1), t);
	wm_relays_update(rs, t);
	for (unsigned k = 1; k < WM_RELAYS_MIN_SAMPLES; k++) {
		CHECK(rs->home == 0);
		rs->slot[0].rc.rtt_ns = MS(35) + k;
		wm_relays_update(rs, t + S(1));
	}
	CHECK(wm_relays_update(rs, t + S(WM_RELAYS_SETTLE_S)) &
	      WM_RELAYS_HOME_MOVED);
	CHECK(rs->home == 1);
	free(rs);
}

int main(void)
{
	RUN(home_by_latency_then_order);
	RUN(failover_and_return);
	RUN(one_slow_sample);
	RUN(peer_relay);
	RUN(peer_path_across_relays);
	return check_summary();
}
