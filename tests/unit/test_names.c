/*
 * Peer endpoints given as host names (agent/names.h), with a resolver
 * whose lookup answers from a variable: the name resolves in the
 * background and the peer gets it; when the name moves (a dynamic DNS
 * peer), the peer follows at the resolver's next refresh, unless the
 * endpoint it has is answering now.
 */
#include "check.h"
#include "agent/device.h"
#include "agent/names.h"
#include "agent/nat/path.h"
#include "agent/resolver.h"
#include "agent/wg/clock.h"
#include "crypto/random.h"

#include <poll.h>

#define S(x) ((uint64_t)(x) * 1000000000ULL)

static const char *current = "192.0.2.10:51820"; /* read by the worker */

static int moving_lookup(union wm_sockaddr *out, const char *text)
{
	if (strcmp(text, "peer.example.net:51820") != 0)
		return -2; /* EAI_NONAME */
	return wm_sockaddr_parse(out, __atomic_load_n(&current, __ATOMIC_SEQ_CST))
		       ? 0 : -2;
}

/* Waits (bounded: 2 s) for the resolver's n-th answer, as the loop does. */
static bool wait_answers(struct wm_resolver *r, uint64_t n)
{
	for (int i = 0; i < 200 && wm_resolver_answers(r) < n; i++) {
		struct pollfd pfd = { wm_resolver_fd(r), POLLIN, 0 };

		poll(&pfd, 1, 10);
		wm_resolver_drain(r);
	}
	return wm_resolver_answers(r) >= n;
}

/* Waits (bounded: 2 s) until the resolver answers text with want, asking
 * at t as the agent's tick would (a refresh is due when t is past the
 * resolver's period; an earlier refresh may still bring the old answer). */
static bool wait_resolves(struct wm_resolver *r, const char *text,
			  const char *want, uint64_t t)
{
	union wm_sockaddr a, w;

	if (!wm_sockaddr_parse(&w, want))
		return false;
	for (int i = 0; i < 200; i++) {
		struct pollfd pfd = { wm_resolver_fd(r), POLLIN, 0 };

		wm_resolver_drain(r);
		if (wm_resolver_get(r, text, &a, t) == 0 && wm_sockaddr_equal(&a, &w))
			return true;
		poll(&pfd, 1, 10);
	}
	return false;
}

static bool endpoint_is(const struct wm_peer *p, const char *want)
{
	char got[WM_SOCKADDR_STRLEN];

	wm_sockaddr_format(got, sizeof(got), &p->endpoint);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "  endpoint %s, want %s\n", got, want);
	return strcmp(got, want) == 0;
}

TEST(named_endpoint_followed)
{
	static struct wm_device dev;
	static struct wm_config cfg;
	struct wm_peer_config pc = { 0 };
	struct wm_resolver *r;
	struct wm_peer *p;
	uint64_t t = wm_now_ns();

	CHECK(wm_random_bytes(pc.public_key, 32) == 0);
	snprintf(pc.endpoint_text, sizeof(pc.endpoint_text), "peer.example.net:51820");
	pc.endpoint_named = pc.endpoint_unresolved = true;
	pc.endpoint_line = 7;
	snprintf(cfg.path, sizeof(cfg.path), "wm0.conf");
	cfg.peers = &pc;
	cfg.n_peers = 1;
	CHECK(wm_device_init(&dev, "wmnames") == 0);
	p = wm_device_add_peer(&dev, pc.public_key);
	CHECK(p != NULL);
	CHECK(wm_resolver_new(&r, moving_lookup) == 0);
	if (!p || !r)
		return;

	wm_names_apply_endpoints(r, &cfg, &dev, t);
	CHECK(!wm_peer_has_endpoint(p));
	CHECK(wait_answers(r, 1));
	wm_names_apply_endpoints(r, &cfg, &dev, t);
	CHECK(!pc.endpoint_unresolved && endpoint_is(p, "192.0.2.10:51820"));

	/* the name moves; the peer was never heard: it follows */
	__atomic_store_n(&current, "192.0.2.20:51820", __ATOMIC_SEQ_CST);
	t += S(WM_RESOLVER_REFRESH_S + 1);
	wm_names_apply_endpoints(r, &cfg, &dev, t);
	CHECK(wait_resolves(r, pc.endpoint_text, "192.0.2.20:51820", t));
	wm_names_apply_endpoints(r, &cfg, &dev, t);
	CHECK(endpoint_is(p, "192.0.2.20:51820"));

	/* it moves again while the endpoint in use answers: kept until
	 * that endpoint falls silent */
	p->path.direct_rx_ns = t;
	__atomic_store_n(&current, "192.0.2.30:51820", __ATOMIC_SEQ_CST);
	t += S(WM_RESOLVER_REFRESH_S + 1);
	p->path.direct_rx_ns = t;
	wm_names_apply_endpoints(r, &cfg, &dev, t);
	CHECK(wait_resolves(r, pc.endpoint_text, "192.0.2.30:51820", t));
	wm_names_apply_endpoints(r, &cfg, &dev, t);
	CHECK(endpoint_is(p, "192.0.2.20:51820"));
	t += S(WM_DIRECT_LIVE_WG_S);
	wm_names_apply_endpoints(r, &cfg, &dev, t);
	CHECK(endpoint_is(p, "192.0.2.30:51820"));
	CHECK(strcmp(pc.endpoint_text, "peer.example.net:51820") == 0);

	wm_resolver_free(r);
	wm_device_free(&dev);
}

int main(void)
{
	RUN(named_endpoint_followed);
	return check_summary();
}
