/*
 * Path selection (agent/nat/path.h): wm_path_choose() and
 * wm_path_probe_direct() over every combination of path mode, relay
 * up/down, endpoint known/unknown, direct path proven/stale/never and the
 * relay's "gone" (none, recent and unanswered, recent but heard from the
 * peer through the relay since, expired). Checked two ways: a reference
 * model written from the rules in path.h's header comment, over the whole
 * product, and a table of hand-picked rows with the answer spelled out.
 * Then the boundaries of WM_DIRECT_TRUST_S and WM_RELAY_GONE_HOLD_S, and
 * the cached path of agent/peer_path.c: decided on events, each change
 * queued once as an event.
 */
#include "check.h"
#include "agent/config.h"
#include "agent/device.h"
#include "agent/nat/path.h"
#include "agent/peer.h"
#include "agent/peer_path.h"
#include "agent/relays.h"

#include <arpa/inet.h>

#define S(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)
static const uint64_t now = S(1000);

enum direct { D_NEVER, D_FRESH, D_STALE };
enum gone { G_NONE, G_RECENT, G_RECENT_HEARD_SINCE, G_EXPIRED };

static const char *const mode_names[] = { "auto", "direct", "relay" };
static const char *const direct_names[] = { "never", "fresh", "stale" };
static const char *const gone_names[] = { "none", "recent", "recent+rx",
					  "expired" };

static void make_peer(struct wm_peer *p, enum wm_path_mode mode, bool endpoint,
		      enum direct d, enum gone g)
{
	memset(p, 0, sizeof(*p));
	p->path_mode = mode;
	if (endpoint) {
		p->endpoint.in.sin_family = AF_INET;
		p->endpoint.in.sin_port = htons(51820);
		p->endpoint.in.sin_addr.s_addr = htonl(0xc0000201);
	}
	switch (d) {
	case D_NEVER: break;
	case D_FRESH: p->path.direct_rx_ns = now - S(WM_DIRECT_TRUST_S) + 1; break;
	case D_STALE: p->path.direct_rx_ns = now - S(WM_DIRECT_TRUST_S); break;
	}
	switch (g) {
	case G_NONE:
		break;
	case G_RECENT:
		p->path.relay_rx_ns = now - S(30);
		p->path.relay_gone_ns = now - S(WM_RELAY_GONE_HOLD_S) + 1;
		break;
	case G_RECENT_HEARD_SINCE:
		p->path.relay_gone_ns = now - S(2);
		p->path.relay_rx_ns = now - S(1);
		break;
	case G_EXPIRED:
		p->path.relay_rx_ns = now - S(30);
		p->path.relay_gone_ns = now - S(WM_RELAY_GONE_HOLD_S);
		break;
	}
}

static enum wm_via choose(const struct wm_peer *p, bool relay_up, uint64_t t)
{
	return wm_path_choose(&p->path, p->path_mode, wm_peer_has_endpoint(p),
			      relay_up, t);
}

static bool probe_direct(const struct wm_peer *p, uint64_t t)
{
	return wm_path_probe_direct(&p->path, p->path_mode,
				    wm_peer_has_endpoint(p), t);
}

/* path.h's rules, as written there. */
static enum wm_via model_choose(enum wm_path_mode mode, bool relay_up,
				bool endpoint, enum direct d, enum gone g)
{
	bool proven = endpoint && d == D_FRESH;
	bool relay_says_gone = g == G_RECENT;

	switch (mode) {
	case WM_PATH_RELAY:
		return relay_up ? WM_VIA_RELAY : WM_VIA_NONE;
	case WM_PATH_DIRECT:
		return endpoint ? WM_VIA_DIRECT : WM_VIA_NONE;
	case WM_PATH_AUTO:
		break;
	}
	if (proven)
		return WM_VIA_DIRECT;
	if (relay_up && !(relay_says_gone && endpoint))
		return WM_VIA_RELAY;
	return endpoint ? WM_VIA_DIRECT : WM_VIA_NONE;
}

static bool model_probe(enum wm_path_mode mode, bool endpoint, enum direct d)
{
	return mode == WM_PATH_AUTO && endpoint && d != D_FRESH;
}

TEST(product_against_model)
{
	struct wm_peer *p = calloc(1, sizeof(*p));
	int rows = 0;

	for (int mode = 0; mode < 3; mode++)
	for (int up = 0; up < 2; up++)
	for (int ep = 0; ep < 2; ep++)
	for (int d = 0; d < 3; d++)
	for (int g = 0; g < 4; g++) {
		enum wm_via want = model_choose((enum wm_path_mode)mode, up,
						ep, (enum direct)d,
						(enum gone)g);
		bool want_probe = model_probe((enum wm_path_mode)mode, ep,
					      (enum direct)d);
		enum wm_via got;
		bool got_probe;

		make_peer(p, (enum wm_path_mode)mode, ep, (enum direct)d,
			  (enum gone)g);
		got = choose(p, up, now);
		got_probe = probe_direct(p, now);
		if (got != want || got_probe != want_probe) {
			fprintf(stderr,
				"  mode=%s relay=%s endpoint=%s direct=%s "
				"gone=%s: via %s probe %d, want %s probe %d\n",
				mode_names[mode], up ? "up" : "down",
				ep ? "known" : "unknown", direct_names[d],
				gone_names[g], wm_via_name(got), got_probe,
				wm_via_name(want), want_probe);
			check_case_failed = 1;
		}
		rows++;
	}
	CHECK(rows == 3 * 2 * 2 * 3 * 4);
	free(p);
}

struct row {
	enum wm_path_mode mode;
	bool relay_up, endpoint;
	enum direct direct;
	enum gone gone;
	enum wm_via via;
	bool probe;
	const char *why;
};

#define A WM_PATH_AUTO
#define DI WM_PATH_DIRECT
#define R WM_PATH_RELAY
#define VD WM_VIA_DIRECT
#define VR WM_VIA_RELAY
#define VN WM_VIA_NONE

static const struct row rows[] = {
	/* relay: the relay or nothing, whatever else is known */
	{ R, true, true, D_FRESH, G_NONE, VR, false, "relay mode ignores a proven direct path" },
	{ R, true, true, D_NEVER, G_RECENT, VR, false, "relay mode ignores gone" },
	{ R, false, true, D_FRESH, G_NONE, VN, false, "relay mode, relay down: none, never direct" },
	{ R, false, false, D_NEVER, G_NONE, VN, false, "relay mode, nothing" },
	/* direct: the endpoint or nothing, never the relay */
	{ DI, true, true, D_NEVER, G_NONE, VD, false, "direct mode, endpoint unproven" },
	{ DI, true, false, D_NEVER, G_NONE, VN, false, "direct mode never relays" },
	{ DI, false, true, D_STALE, G_RECENT, VD, false, "direct mode ignores stale and gone" },
	{ DI, false, false, D_FRESH, G_NONE, VN, false, "direct mode without endpoint" },
	/* auto */
	{ A, true, true, D_FRESH, G_NONE, VD, false, "proven direct beats the relay" },
	{ A, false, true, D_FRESH, G_RECENT, VD, false, "proven direct, relay down" },
	{ A, true, true, D_STALE, G_NONE, VR, true, "stale direct: relay, probe direct" },
	{ A, true, true, D_NEVER, G_NONE, VR, true, "never direct: relay, probe direct" },
	{ A, true, false, D_NEVER, G_NONE, VR, false, "no endpoint: relay, nothing to probe" },
	{ A, true, false, D_FRESH, G_NONE, VR, false, "direct rx without endpoint proves nothing" },
	{ A, true, true, D_NEVER, G_RECENT, VD, true, "relay said gone, endpoint known: plain WireGuard peer" },
	{ A, true, false, D_NEVER, G_RECENT, VR, false, "relay said gone but nowhere else to go" },
	{ A, true, true, D_STALE, G_RECENT_HEARD_SINCE, VR, true, "gone voided by relay rx since" },
	{ A, true, true, D_NEVER, G_EXPIRED, VR, true, "gone expired after the hold" },
	{ A, false, true, D_STALE, G_NONE, VD, true, "relay down: try the endpoint" },
	{ A, false, true, D_NEVER, G_RECENT_HEARD_SINCE, VD, true, "relay down, endpoint" },
	{ A, false, false, D_NEVER, G_NONE, VN, false, "nothing at all" },
	{ A, false, false, D_STALE, G_RECENT, VN, false, "relay down, no endpoint" },
};

TEST(table)
{
	struct wm_peer *p = calloc(1, sizeof(*p));

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		enum wm_via got;
		bool probe;

		make_peer(p, r->mode, r->endpoint, r->direct, r->gone);
		got = choose(p, r->relay_up, now);
		probe = probe_direct(p, now);
		if (got != r->via || probe != r->probe) {
			fprintf(stderr, "  row %zu (%s): via %s probe %d, want "
				"%s probe %d\n", i, r->why, wm_via_name(got),
				probe, wm_via_name(r->via), r->probe);
			check_case_failed = 1;
		}
		/* The hand table agrees with the model. */
		CHECK(model_choose(r->mode, r->relay_up, r->endpoint,
				   r->direct, r->gone) == r->via);
		CHECK(model_probe(r->mode, r->endpoint, r->direct) == r->probe);
	}
	free(p);
}

/* Trust lasts WM_DIRECT_TRUST_S: one ns short of it is proven, exactly
 * it is not. The relay's "gone" holds WM_RELAY_GONE_HOLD_S likewise. A
 * timestamp of 0 is "never", even early in the monotonic clock. */
TEST(boundaries)
{
	struct wm_peer *p = calloc(1, sizeof(*p));

	make_peer(p, WM_PATH_AUTO, true, D_NEVER, G_NONE);
	p->path.direct_rx_ns = now - S(WM_DIRECT_TRUST_S) + 1;
	CHECK(choose(p, true, now) == WM_VIA_DIRECT);
	CHECK(!probe_direct(p, now));
	p->path.direct_rx_ns = now - S(WM_DIRECT_TRUST_S);
	CHECK(choose(p, true, now) == WM_VIA_RELAY);
	CHECK(probe_direct(p, now));
	p->path.direct_rx_ns = now;
	CHECK(choose(p, true, now) == WM_VIA_DIRECT);

	make_peer(p, WM_PATH_AUTO, true, D_NEVER, G_NONE);
	p->path.relay_gone_ns = now - S(WM_RELAY_GONE_HOLD_S) + 1;
	CHECK(choose(p, true, now) == WM_VIA_DIRECT);
	p->path.relay_gone_ns = now - S(WM_RELAY_GONE_HOLD_S);
	CHECK(choose(p, true, now) == WM_VIA_RELAY);
	/* Heard through the relay after the gone: relay again at once. */
	p->path.relay_gone_ns = now - S(1);
	CHECK(choose(p, true, now) == WM_VIA_DIRECT);
	p->path.relay_rx_ns = now - S(1) + 1;
	CHECK(choose(p, true, now) == WM_VIA_RELAY);

	/* Zero is never, even when now is inside the trust window. */
	make_peer(p, WM_PATH_AUTO, true, D_NEVER, G_NONE);
	CHECK(choose(p, true, S(1)) == WM_VIA_RELAY);
	CHECK(probe_direct(p, S(1)));
	p->path.relay_gone_ns = 0;
	p->path.relay_rx_ns = 0;
	CHECK(choose(p, true, S(1)) == WM_VIA_RELAY);

	/* An IPv6 endpoint counts the same. */
	make_peer(p, WM_PATH_DIRECT, false, D_NEVER, G_NONE);
	p->endpoint.in6.sin6_family = AF_INET6;
	p->endpoint.in6.sin6_port = htons(1);
	CHECK(choose(p, false, now) == WM_VIA_DIRECT);
	free(p);
}

TEST(via_names)
{
	CHECK(strcmp(wm_via_name(WM_VIA_NONE), "none") == 0);
	CHECK(strcmp(wm_via_name(WM_VIA_DIRECT), "direct") == 0);
	CHECK(strcmp(wm_via_name(WM_VIA_RELAY), "relay") == 0);
	CHECK(strcmp(wm_via_name((enum wm_via)42), "none") == 0);
}

/* The next queued path event, or false. */
static bool next_path_event(struct wm_device *dev, struct wm_event *ev)
{
	while (wm_event_pop(&dev->events, ev))
		if (ev->type == WM_EVENT_PATH)
			return true;
	return false;
}

/* wm_peer_path_update caches the choice in p->via and queues each change
 * once, following the relay client's state (NULL = no relay). */
TEST(update_queues_changes)
{
	struct wm_device *dev = calloc(1, sizeof(*dev));
	struct wm_peer *p = calloc(1, sizeof(*p));
	struct wm_relays *rs = calloc(1, sizeof(*rs));
	struct wm_relay_client *rc = &rs->slot[0].rc;
	struct wm_event ev;

	make_peer(p, WM_PATH_AUTO, false, D_NEVER, G_NONE);
	memset(p->public_key, 7, sizeof(p->public_key));
	p->relay = -1;
	dev->peers = p;
	wm_relays_init(rs, NULL);
	rs->n = 1; /* one relay, its client driven by hand */

	wm_peer_path_update(dev, p, now); /* no relay, no endpoint: none */
	CHECK(!next_path_event(dev, &ev) && p->via == WM_VIA_NONE);

	dev->relays = rs; /* configured but not up */
	wm_relays_update(rs, now);
	wm_peer_path_update(dev, p, now);
	CHECK(!next_path_event(dev, &ev));

	rc->state = WM_RELAY_UP;
	rc->session.valid = true;
	wm_relays_update(rs, now);
	wm_peer_path_update(dev, p, now);
	CHECK(next_path_event(dev, &ev));
	CHECK(memcmp(ev.key, p->public_key, sizeof(ev.key)) == 0);
	CHECK(ev.old_via == WM_VIA_NONE && ev.via == WM_VIA_RELAY);
	CHECK(p->via == WM_VIA_RELAY);
	wm_peer_path_update(dev, p, now);
	CHECK(!next_path_event(dev, &ev));

	/* A pong or an authenticated packet straight from the endpoint. */
	p->endpoint.in.sin_family = AF_INET;
	p->endpoint.in.sin_port = htons(51820);
	p->endpoint.in.sin_addr.s_addr = htonl(0xc0000201);
	wm_peer_path_heard(dev, p, &p->endpoint, now);
	CHECK(next_path_event(dev, &ev) && ev.old_via == WM_VIA_RELAY &&
	      ev.via == WM_VIA_DIRECT && p->via == WM_VIA_DIRECT);

	/* Trust runs out: back to the relay at the next decision. */
	wm_peer_path_update(dev, p, now + S(WM_DIRECT_TRUST_S) - 1);
	CHECK(!next_path_event(dev, &ev) && p->via == WM_VIA_DIRECT);
	wm_peer_path_update(dev, p, now + S(WM_DIRECT_TRUST_S));
	CHECK(next_path_event(dev, &ev) && ev.via == WM_VIA_RELAY);

	/* The relay says the peer is gone: the endpoint is tried. */
	wm_peer_path_gone(dev, p, 0, now + S(WM_DIRECT_TRUST_S));
	CHECK(next_path_event(dev, &ev) && ev.via == WM_VIA_DIRECT);

	/* The operator's mode change decides at once. */
	wm_peer_path_set_mode(dev, p, WM_PATH_RELAY, now + S(WM_DIRECT_TRUST_S));
	CHECK(next_path_event(dev, &ev) && ev.via == WM_VIA_RELAY &&
	      p->path_mode == WM_PATH_RELAY);

	/* Relay down: none in relay mode. */
	rc->state = WM_RELAY_IDLE;
	wm_relays_update(rs, now + S(WM_DIRECT_TRUST_S));
	wm_peer_path_update_all(dev, now + S(WM_DIRECT_TRUST_S));
	CHECK(next_path_event(dev, &ev) && ev.via == WM_VIA_NONE &&
	      p->via == WM_VIA_NONE);

	free(rs);
	free(p);
	free(dev);
}

/* The path shown is the chosen one, but none while that is direct and
 * the endpoint was not heard from within the liveness window: sending
 * still goes to the endpoint (p->via), so the path can come back. */
TEST(shown_tells_the_truth)
{
	struct wm_device *dev = calloc(1, sizeof(*dev));
	struct wm_peer *p = calloc(1, sizeof(*p));
	struct wm_event ev;

	make_peer(p, WM_PATH_DIRECT, true, D_NEVER, G_NONE);
	dev->peers = p;
	/* Configured, never heard: sent to, not shown as direct. */
	wm_peer_path_update(dev, p, now);
	CHECK(p->via == WM_VIA_DIRECT && p->shown == WM_VIA_NONE);
	CHECK(!next_path_event(dev, &ev));
	wm_peer_path_heard(dev, p, &p->endpoint, now);
	CHECK(p->shown == WM_VIA_DIRECT && next_path_event(dev, &ev) &&
	      ev.old_via == WM_VIA_NONE && ev.via == WM_VIA_DIRECT);
	CHECK(p->rx_direct_ns == now && p->rx_relay_ns == 0);
	/* A plain WireGuard peer: WM_DIRECT_LIVE_WG_S. */
	wm_peer_path_update(dev, p, now + S(WM_DIRECT_LIVE_WG_S) - 1);
	CHECK(p->shown == WM_VIA_DIRECT && !next_path_event(dev, &ev));
	wm_peer_path_update(dev, p, now + S(WM_DIRECT_LIVE_WG_S));
	CHECK(p->shown == WM_VIA_NONE && p->via == WM_VIA_DIRECT);
	CHECK(next_path_event(dev, &ev) && ev.via == WM_VIA_NONE);
	/* A peer that answers disco: WM_DIRECT_TRUST_S. */
	p->path.disco_rx_ns = now;
	wm_peer_path_heard(dev, p, &p->endpoint, now);
	CHECK(next_path_event(dev, &ev) && ev.via == WM_VIA_DIRECT);
	wm_peer_path_update(dev, p, now + S(WM_DIRECT_TRUST_S) - 1);
	CHECK(p->shown == WM_VIA_DIRECT);
	wm_peer_path_update(dev, p, now + S(WM_DIRECT_TRUST_S));
	CHECK(p->shown == WM_VIA_NONE && next_path_event(dev, &ev));
	/* The pure rule alone: only direct is ever hidden. */
	CHECK(wm_path_shown(&p->path, WM_VIA_RELAY, now + S(100)) ==
	      WM_VIA_RELAY);
	CHECK(wm_path_shown(&p->path, WM_VIA_NONE, now) == WM_VIA_NONE);
	CHECK(wm_path_shown(&p->path, WM_VIA_DIRECT, now) == WM_VIA_DIRECT);
	/* Through the relay: the relay's last_rx. */
	wm_peer_path_heard(dev, p, NULL, now + S(200));
	CHECK(p->rx_relay_ns == now + S(200) && p->rx_direct_ns == now);
	free(p);
	free(dev);
}

/* The relay path is shown as none once what went through it asked for an
 * answer and none came back, either way, for WM_RELAY_SILENT_S. */
TEST(relay_silent_is_shown_none)
{
	struct wm_path_state s = { 0 };

	/* nothing sent: an idle pair is not a dead one */
	CHECK(wm_path_shown(&s, WM_VIA_RELAY, now) == WM_VIA_RELAY);
	wm_path_relay_sent(&s, now);
	wm_path_relay_sent(&s, now + S(5)); /* the first unanswered send counts */
	CHECK(s.relay_tx_since == now);
	CHECK(wm_path_shown(&s, WM_VIA_RELAY, now + S(WM_RELAY_SILENT_S) - 1) ==
	      WM_VIA_RELAY);
	CHECK(wm_path_shown(&s, WM_VIA_RELAY, now + S(WM_RELAY_SILENT_S)) ==
	      WM_VIA_NONE);
	/* an answer, whichever way it came, makes it true again */
	s.wg_rx_ns = now + S(16);
	CHECK(wm_path_shown(&s, WM_VIA_RELAY, now + S(17)) == WM_VIA_RELAY);
	/* the next send after the answer starts a new clock */
	wm_path_relay_sent(&s, now + S(20));
	CHECK(s.relay_tx_since == now + S(20));
	CHECK(wm_path_shown(&s, WM_VIA_RELAY, now + S(20 + WM_RELAY_SILENT_S) - 1) ==
	      WM_VIA_RELAY);
	CHECK(wm_path_shown(&s, WM_VIA_RELAY, now + S(20 + WM_RELAY_SILENT_S)) ==
	      WM_VIA_NONE);
	/* direct is judged by its own window, not this clock */
	s.direct_rx_ns = now + S(34);
	CHECK(wm_path_shown(&s, WM_VIA_DIRECT, now + S(35)) == WM_VIA_DIRECT);
}

int main(void)
{
	RUN(product_against_model);
	RUN(table);
	RUN(boundaries);
	RUN(via_names);
	RUN(update_queues_changes);
	RUN(shown_tells_the_truth);
	RUN(relay_silent_is_shown_none);
	return check_summary();
}
