/*
 * Discovery (agent/nat/discovery.h) on a virtual clock, one rule of its
 * header comment per case: probing and its backoff, the candidate list
 * (the usable-address table, no duplicates, the oldest never-answered one
 * replaced when full, checked against a naive list in order of arrival),
 * PING -> PONG, which PONGs prove a path and which switch the endpoint,
 * the bad-endpoint quarantine, the CALL_ME_MAYBE burst limit, the replay
 * memory (and that it is held only while a nonce in it is live) and the
 * heartbeat. Randomness is a counter, so every txid is
 * distinct and never all zero.
 */
#include "check.h"
#include "agent/nat/discovery.h"
#include "agent/wg/messages.h"

#include <arpa/inet.h>

#define S(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)
#define MS(x) ((uint64_t)(x) * 1000000ULL)

static const uint64_t t0 = S(1000);

static uint64_t rnd_counter;
static int rnd(void *buf, size_t len)
{
	uint64_t c = ++rnd_counter;

	memset(buf, 0, len);
	memcpy(buf, &c, len < sizeof(c) ? len : sizeof(c));
	return 0;
}

static int rnd_fail(void *buf, size_t len)
{
	(void)buf;
	(void)len;
	return -5; /* -EIO */
}

static union wm_sockaddr A(const char *text)
{
	union wm_sockaddr a;

	if (!wm_sockaddr_parse(&a, text)) {
		fprintf(stderr, "bad address in test data: %s\n", text);
		abort();
	}
	return a;
}

/* One peer's discovery state, the view the agent would give it, and a
 * virtual clock. Not copied: v.local points into it. */
struct fx {
	struct wm_disco_peer d;
	struct wm_disco_view v;
	struct wm_disco_out out;
	union wm_sockaddr local[2];
	uint64_t nonce_counter;
};

static void fx_init(struct fx *f, enum wm_path_mode mode)
{
	memset(f, 0, sizeof(*f));
	f->local[0] = A("192.0.2.10:41641");
	f->local[1] = A("[2001:db8::10]:41641");
	f->v.mode = mode;
	f->v.relay_up = true;
	f->v.local = f->local;
	f->v.n_local = 2;
	f->v.random = rnd;
	f->nonce_counter = 1000;
}

/* Frees what discovery allocated (the replay memory). */
static void fx_done(struct fx *f)
{
	wm_discovery_free(&f->d);
}

static void tick(struct fx *f, uint64_t now)
{
	wm_discovery_tick(&f->d, &f->v, now, &f->out);
}

/* A message with a fresh nonce; src NULL = through the relay. */
static bool rx(struct fx *f, const struct wm_disco_msg *m,
	       const union wm_sockaddr *src, uint64_t now)
{
	uint8_t nonce[24] = { 0 };
	uint64_t c = ++f->nonce_counter;

	memcpy(nonce, &c, sizeof(c));
	return wm_discovery_receive(&f->d, &f->v, m, nonce, src, now, &f->out);
}

static bool rx_ping(struct fx *f, const uint8_t *txid,
		    const union wm_sockaddr *src, uint64_t now)
{
	struct wm_disco_msg m = { .type = WM_DISCO_PING };

	memcpy(m.txid, txid, WM_DISCO_TXID);
	return rx(f, &m, src, now);
}

static bool rx_pong(struct fx *f, const uint8_t *txid,
		    const union wm_sockaddr *src, uint64_t now)
{
	struct wm_disco_msg m = { .type = WM_DISCO_PONG };

	memcpy(m.txid, txid, WM_DISCO_TXID);
	if (src)
		m.observed = f->local[0];
	return rx(f, &m, src, now);
}

static bool rx_cmm(struct fx *f, const union wm_sockaddr *c, size_t n,
		   uint64_t now)
{
	struct wm_disco_msg m = { .type = WM_DISCO_CALL_ME_MAYBE };

	if (n)
		memcpy(m.candidates, c, n * sizeof(c[0]));
	m.n_candidates = n;
	return rx(f, &m, NULL, now);
}

static size_t count(const struct wm_disco_out *o, enum wm_disco_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n_send; i++)
		n += o->send[i].msg.type == t;
	return n;
}

/* The PING queued to `to`, or NULL. */
static const struct wm_disco_send *ping_to(const struct wm_disco_out *o,
					   const union wm_sockaddr *to)
{
	for (size_t i = 0; i < o->n_send; i++)
		if (o->send[i].msg.type == WM_DISCO_PING &&
		    wm_sockaddr_equal(&o->send[i].to, to))
			return &o->send[i];
	return NULL;
}

static bool has_cand(const struct wm_disco_peer *d, const union wm_sockaddr *a)
{
	for (size_t i = 0; i < d->n_cand; i++)
		if (wm_sockaddr_equal(&d->cand[i].addr, a))
			return true;
	return false;
}

/* ---- probing ---- */

TEST(probe_sends_call_me_maybe_and_pings)
{
	struct fx f;
	union wm_sockaddr c1 = A("198.51.100.1:51820"), c2 = A("[2001:db8::1]:51820");
	const struct wm_disco_send *p1, *p2;

	fx_init(&f, WM_PATH_AUTO);
	wm_discovery_add_candidate(&f.d, &c1);
	wm_discovery_add_candidate(&f.d, &c2);
	tick(&f, t0);
	CHECK(f.out.n_send == 3);
	CHECK(count(&f.out, WM_DISCO_CALL_ME_MAYBE) == 1);
	CHECK(f.out.send[0].msg.type == WM_DISCO_CALL_ME_MAYBE);
	CHECK(f.out.send[0].to.sa.sa_family == AF_UNSPEC);
	CHECK(f.out.send[0].msg.n_candidates == 2);
	CHECK(wm_sockaddr_equal(&f.out.send[0].msg.candidates[0], &f.local[0]));
	CHECK(wm_sockaddr_equal(&f.out.send[0].msg.candidates[1], &f.local[1]));
	p1 = ping_to(&f.out, &c1);
	p2 = ping_to(&f.out, &c2);
	CHECK(p1 && p2);
	if (p1 && p2) {
		CHECK(memcmp(p1->msg.txid, p2->msg.txid, WM_DISCO_TXID) != 0);
		CHECK_MEM(p1->msg.txid, f.d.cand[0].txid, WM_DISCO_TXID);
		CHECK_MEM(p2->msg.txid, f.d.cand[1].txid, WM_DISCO_TXID);
	}
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);

	tick(&f, t0 + S(WM_PROBE_MIN_S) - 1);
	CHECK(f.out.n_send == 0);
	tick(&f, t0 + S(WM_PROBE_MIN_S));
	CHECK(f.out.n_send == 3);
	fx_done(&f);
}

/* The gaps between probes when nothing answers, ticking every 250 ms. */
TEST(probe_backoff_doubles_to_max)
{
	static const unsigned want[] = { 2, 4, 8, 16, 30, 30, 30, 30 };
	enum { N = sizeof(want) / sizeof(want[0]) };
	uint64_t at[N + 1];
	size_t n = 0;
	union wm_sockaddr c = A("198.51.100.1:51820");
	struct fx f;

	CHECK(want[0] == WM_PROBE_MIN_S && want[N - 1] == WM_PROBE_MAX_S);
	fx_init(&f, WM_PATH_AUTO);
	wm_discovery_add_candidate(&f.d, &c);
	for (uint64_t t = t0; n <= N && t < t0 + S(400); t += MS(250)) {
		tick(&f, t);
		if (f.out.n_send) {
			CHECK(f.out.n_send == 2);
			at[n++] = t;
		}
	}
	CHECK(n == N + 1);
	for (size_t i = 0; i + 1 < n; i++)
		if (at[i + 1] - at[i] != S(want[i])) {
			fprintf(stderr, "gap %zu: %llu ns, want %u s\n", i,
				(unsigned long long)(at[i + 1] - at[i]), want[i]);
			CHECK(at[i + 1] - at[i] == S(want[i]));
		}
	fx_done(&f);
}

TEST(restart_probes_at_next_tick)
{
	union wm_sockaddr c = A("198.51.100.1:51820");
	uint64_t t = t0;
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	wm_discovery_add_candidate(&f.d, &c);
	for (unsigned gap = WM_PROBE_MIN_S; gap <= 8; gap *= 2) {
		tick(&f, t);
		CHECK(f.out.n_send == 2);
		t += S(gap);
	}
	tick(&f, t - S(8) + 1); /* the next probe is 8 s away */
	CHECK(f.out.n_send == 0);
	wm_discovery_restart(&f.d);
	tick(&f, t - S(8) + 2);
	CHECK(f.out.n_send == 2);
	/* and the backoff starts over */
	tick(&f, t - S(8) + 2 + S(WM_PROBE_MIN_S) - 1);
	CHECK(f.out.n_send == 0);
	tick(&f, t - S(8) + 2 + S(WM_PROBE_MIN_S));
	CHECK(f.out.n_send == 2);
	fx_done(&f);
}

TEST(relay_mode_never_probes)
{
	union wm_sockaddr c = A("198.51.100.1:51820");
	struct fx f;

	fx_init(&f, WM_PATH_RELAY);
	wm_discovery_add_candidate(&f.d, &c);
	f.v.endpoint = A("198.51.100.2:51820");
	for (uint64_t t = t0; t < t0 + S(120); t += MS(500)) {
		tick(&f, t);
		CHECK(f.out.n_send == 0);
	}
	wm_discovery_restart(&f.d);
	tick(&f, t0 + S(121));
	CHECK(f.out.n_send == 0);
	fx_done(&f);
}

/* What one probe sends, by what there is to probe with. */
TEST(probe_needs_relay_candidates_or_endpoint)
{
	static const struct {
		bool relay, cand, endpoint;
		size_t cmm, pings;
	} rows[] = {
		{ false, false, false, 0, 0 }, /* nobody to ask */
		{ true,  false, false, 1, 0 }, /* ask through the relay */
		{ false, true,  false, 0, 1 },
		{ false, false, true,  0, 1 }, /* the endpoint becomes one */
		{ true,  true,  true,  1, 2 },
	};
	union wm_sockaddr c = A("198.51.100.1:51820"), ep = A("198.51.100.2:51820");

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx f;

		fx_init(&f, WM_PATH_AUTO);
		f.v.relay_up = rows[i].relay;
		if (rows[i].cand)
			wm_discovery_add_candidate(&f.d, &c);
		if (rows[i].endpoint)
			f.v.endpoint = ep;
		tick(&f, t0);
		if (count(&f.out, WM_DISCO_CALL_ME_MAYBE) != rows[i].cmm ||
		    count(&f.out, WM_DISCO_PING) != rows[i].pings ||
		    f.out.n_send != rows[i].cmm + rows[i].pings) {
			fprintf(stderr, "row %zu: %zu sends\n", i, f.out.n_send);
			CHECK(!"probe row");
		}
		if (rows[i].endpoint)
			CHECK(ping_to(&f.out, &ep) != NULL);
		fx_done(&f);
	}
}

TEST(failing_random_sends_no_ping)
{
	union wm_sockaddr c = A("198.51.100.1:51820");
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	f.v.random = rnd_fail;
	wm_discovery_add_candidate(&f.d, &c);
	tick(&f, t0);
	CHECK(f.out.n_send == 1);
	CHECK(count(&f.out, WM_DISCO_PING) == 0);
	CHECK(f.d.cand[0].ping_sent_ns == 0);
	fx_done(&f);
}

/* ---- candidates ---- */

TEST(usable_address_table)
{
	static const struct {
		const char *addr;
		bool usable;
	} rows[] = {
		{ "192.0.2.1:51820", true },
		{ "10.0.0.1:1", true },
		{ "100.64.0.1:41641", true },
		{ "126.255.255.255:1", true },
		{ "128.0.0.1:1", true },
		{ "169.253.255.255:1", true },
		{ "169.255.0.1:1", true },
		{ "223.255.255.255:1", true },
		{ "[2001:db8::1]:51820", true },
		{ "[fd00::1]:51820", true },
		{ "[fec0::1]:1", true },
		{ "127.0.0.1:51820", false },    /* loopback */
		{ "127.255.255.254:1", false },
		{ "169.254.0.1:51820", false },  /* link-local */
		{ "169.254.255.255:1", false },
		{ "0.0.0.0:51820", false },      /* unspecified */
		{ "0.1.2.3:1", false },
		{ "224.0.0.1:51820", false },    /* multicast */
		{ "239.255.255.250:1900", false },
		{ "240.0.0.1:1", false },        /* reserved, broadcast */
		{ "255.255.255.255:1", false },
		{ "192.0.2.1:0", false },        /* port 0 */
		{ "[::1]:51820", false },
		{ "[::]:51820", false },
		{ "[fe80::1]:51820", false },
		{ "[febf::1]:1", false },
		{ "[ff02::1]:51820", false },
		{ "[ff0e::1]:1", false },
		{ "[::ffff:192.0.2.1]:51820", false }, /* v4-mapped */
		{ "[2001:db8::1]:0", false },
	};
	union wm_sockaddr unspec;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct wm_disco_peer d;
		union wm_sockaddr a = A(rows[i].addr);

		memset(&d, 0, sizeof(d));
		wm_discovery_add_candidate(&d, &a);
		if ((d.n_cand == 1) != rows[i].usable) {
			fprintf(stderr, "%s: n_cand %zu\n", rows[i].addr, d.n_cand);
			CHECK(!"usable row");
		}
	}
	{
		struct wm_disco_peer d;

		memset(&d, 0, sizeof(d));
		memset(&unspec, 0, sizeof(unspec));
		wm_discovery_add_candidate(&d, &unspec);
		CHECK(d.n_cand == 0);
	}
}

TEST(no_duplicate_candidates)
{
	union wm_sockaddr a = A("198.51.100.1:51820"), b = A("198.51.100.1:51821");
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	wm_discovery_add_candidate(&f.d, &a);
	wm_discovery_add_candidate(&f.d, &a);
	wm_discovery_add_candidate(&f.d, &b);
	wm_discovery_add_candidate(&f.d, &b);
	CHECK(f.d.n_cand == 2);
	/* a CALL_ME_MAYBE repeating one adds nothing either */
	CHECK(rx_cmm(&f, &a, 1, t0));
	CHECK(f.d.n_cand == 2);
	fx_done(&f);
}

static union wm_sockaddr nth(unsigned i)
{
	union wm_sockaddr a = A("198.51.100.0:51820");

	a.in.sin_addr.s_addr = htonl(0xc6336400u + (i & 0xff));
	a.in.sin_port = htons((uint16_t)(1000 + i));
	return a;
}

/* Proves candidate a through the protocol: a probe pings it, it pongs. */
static void prove(struct fx *f, const union wm_sockaddr *a, uint64_t *t)
{
	const struct wm_disco_send *p;

	wm_discovery_restart(&f->d);
	tick(f, *t);
	p = ping_to(&f->out, a);
	CHECK(p != NULL);
	if (p) {
		uint8_t txid[WM_DISCO_TXID];

		memcpy(txid, p->msg.txid, sizeof(txid));
		*t += MS(10);
		CHECK(rx_pong(f, txid, a, *t));
		CHECK(f->out.direct_proven);
	}
	*t += MS(10);
}

TEST(full_list_replaces_oldest_unanswered)
{
	union wm_sockaddr n0 = nth(100), n1 = nth(101), n2 = nth(102);
	uint64_t t = t0;
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	f.v.relay_up = false;
	for (unsigned i = 0; i < WM_DISCO_MAX_CANDIDATES; i++) {
		union wm_sockaddr a = nth(i);
		wm_discovery_add_candidate(&f.d, &a);
	}
	CHECK(f.d.n_cand == WM_DISCO_MAX_CANDIDATES);
	for (unsigned i = 0; i < 3; i += 2) { /* 0 and 2 answer */
		union wm_sockaddr a = nth(i);
		prove(&f, &a, &t);
	}
	wm_discovery_add_candidate(&f.d, &n0);
	CHECK(f.d.n_cand == WM_DISCO_MAX_CANDIDATES);
	CHECK(has_cand(&f.d, &n0));
	{
		union wm_sockaddr c0 = nth(0), c1 = nth(1), c2 = nth(2);
		CHECK(has_cand(&f.d, &c0) && !has_cand(&f.d, &c1) &&
		      has_cand(&f.d, &c2));
	}
	/* the next newcomer pushes out the next oldest (3), not n0 */
	wm_discovery_add_candidate(&f.d, &n1);
	wm_discovery_add_candidate(&f.d, &n2);
	CHECK(has_cand(&f.d, &n0) && has_cand(&f.d, &n1) && has_cand(&f.d, &n2));
	for (unsigned i = 3; i < 5; i++) {
		union wm_sockaddr a = nth(i);
		CHECK(!has_cand(&f.d, &a));
	}
	{
		union wm_sockaddr a = nth(5);
		CHECK(has_cand(&f.d, &a));
	}
	fx_done(&f);
}

/* A random walk of additions (some unusable, some repeated) and proofs
 * against a naive list in order of arrival: when full, the first entry
 * that never answered goes, else the first. Fixed seed. */
TEST(candidates_against_naive_list)
{
	struct { union wm_sockaddr a; bool proven; } model[WM_DISCO_MAX_CANDIDATES];
	size_t n_model = 0;
	uint32_t seed = 12345;
	uint64_t t = t0;
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	f.v.relay_up = false;
	for (unsigned step = 0; step < 3000; step++) {
		unsigned r;

		seed = seed * 1103515245u + 12345u;
		r = seed >> 8;
		if (r % 5 == 0 && n_model) {
			size_t k = (r / 5) % n_model;
			/* proving pings every candidate: keep it cheap */
			prove(&f, &model[k].a, &t);
			model[k].proven = true;
		} else {
			unsigned id = (r / 5) % 48;
			union wm_sockaddr a = nth(id);
			bool usable = id % 7 != 3, dup = false;
			if (!usable)
				a.in.sin_port = 0;
			for (size_t i = 0; i < n_model; i++)
				dup |= wm_sockaddr_equal(&model[i].a, &a);
			wm_discovery_add_candidate(&f.d, &a);
			if (usable && !dup) {
				size_t victim = 0;
				if (n_model == WM_DISCO_MAX_CANDIDATES) {
					for (size_t i = 0; i < n_model; i++)
						if (!model[i].proven) {
							victim = i;
							break;
						}
					memmove(&model[victim], &model[victim + 1],
						(n_model - victim - 1) * sizeof(model[0]));
					n_model--;
				}
				model[n_model].a = a;
				model[n_model++].proven = false;
			}
		}
		if (f.d.n_cand != n_model) {
			fprintf(stderr, "step %u: %zu candidates, model %zu\n",
				step, f.d.n_cand, n_model);
			CHECK(f.d.n_cand == n_model);
			goto done;
		}
		for (size_t i = 0; i < n_model; i++)
			if (!has_cand(&f.d, &model[i].a)) {
				fprintf(stderr, "step %u: model entry %zu missing\n",
					step, i);
				CHECK(!"candidate set differs from the model");
				goto done;
			}
	}
done:
	fx_done(&f);
}

/* ---- PING ---- */

TEST(ping_answered_with_pong_to_source)
{
	static const uint8_t txid[WM_DISCO_TXID] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	union wm_sockaddr src = A("203.0.113.5:33000");
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	CHECK(rx_ping(&f, txid, &src, t0));
	CHECK(f.out.n_send == 1);
	CHECK(f.out.send[0].msg.type == WM_DISCO_PONG);
	CHECK(wm_sockaddr_equal(&f.out.send[0].to, &src));
	CHECK(wm_sockaddr_equal(&f.out.send[0].msg.observed, &src));
	CHECK_MEM(f.out.send[0].msg.txid, txid, WM_DISCO_TXID);
	CHECK(has_cand(&f.d, &src) && f.d.n_cand == 1);
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	fx_done(&f);
}

TEST(relayed_ping_answered_through_relay)
{
	static const uint8_t txid[WM_DISCO_TXID] = { 0xaa, 0xbb };
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	CHECK(rx_ping(&f, txid, NULL, t0));
	CHECK(f.out.n_send == 1);
	CHECK(f.out.send[0].msg.type == WM_DISCO_PONG);
	CHECK(f.out.send[0].to.sa.sa_family == AF_UNSPEC);
	/* Nothing observed through the relay: 0.0.0.0:0, which the wire
	 * format carries (AF_UNSPEC would not seal, and the PONG that times
	 * `wiremesh ping` over the relay would never leave). */
	CHECK(f.out.send[0].msg.observed.sa.sa_family == AF_INET);
	CHECK(f.out.send[0].msg.observed.in.sin_addr.s_addr == 0 &&
	      f.out.send[0].msg.observed.in.sin_port == 0);
	{
		uint8_t buf[WM_DISCO_MAX], key[32] = { 1 }, me[32] = { 2 },
			nonce[24] = { 3 };
		CHECK(wm_disco_seal(buf, &f.out.send[0].msg, me, key, nonce) > 0);
	}
	CHECK_MEM(f.out.send[0].msg.txid, txid, WM_DISCO_TXID);
	CHECK(f.d.n_cand == 0);
	fx_done(&f);
}

TEST(relay_mode_pongs_but_learns_nothing)
{
	static const uint8_t txid[WM_DISCO_TXID] = { 7 };
	union wm_sockaddr src = A("203.0.113.5:33000");
	struct fx f;

	fx_init(&f, WM_PATH_RELAY);
	CHECK(rx_ping(&f, txid, &src, t0));
	CHECK(f.out.n_send == 1 && f.out.send[0].msg.type == WM_DISCO_PONG);
	CHECK(f.d.n_cand == 0);
	fx_done(&f);
}

/* ---- PONG ---- */

/* Two candidates, probed once at t0; their txids in ta, tb. */
static void probed(struct fx *f, const union wm_sockaddr *a,
		   const union wm_sockaddr *b, uint8_t *ta, uint8_t *tb)
{
	const struct wm_disco_send *pa, *pb;

	fx_init(f, WM_PATH_AUTO);
	wm_discovery_add_candidate(&f->d, a);
	wm_discovery_add_candidate(&f->d, b);
	tick(f, t0);
	pa = ping_to(&f->out, a);
	pb = ping_to(&f->out, b);
	CHECK(pa && pb);
	if (pa && pb) {
		memcpy(ta, pa->msg.txid, WM_DISCO_TXID);
		memcpy(tb, pb->msg.txid, WM_DISCO_TXID);
	}
}

TEST(pong_must_answer_our_ping)
{
	union wm_sockaddr a = A("198.51.100.1:51820"), b = A("198.51.100.2:51820");
	union wm_sockaddr stranger = A("198.51.100.3:51820");
	uint8_t ta[WM_DISCO_TXID], tb[WM_DISCO_TXID], zero[WM_DISCO_TXID] = { 0 };
	struct fx f;

	probed(&f, &a, &b, ta, tb);
	CHECK(rx_pong(&f, tb, &a, t0 + MS(5)));      /* b's txid from a */
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	CHECK(rx_pong(&f, ta, &stranger, t0 + MS(5)));
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	CHECK(rx_pong(&f, ta, NULL, t0 + MS(5)));     /* through the relay */
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	CHECK(rx_pong(&f, zero, &a, t0 + MS(5)));
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	CHECK(f.d.cand[0].pong_ns == 0 && f.d.cand[1].pong_ns == 0);
	CHECK(f.out.n_send == 0);
	fx_done(&f);

	/* never pinged: its txid is all zero, and so is this pong's */
	fx_init(&f, WM_PATH_AUTO);
	wm_discovery_add_candidate(&f.d, &a);
	CHECK(rx_pong(&f, zero, &a, t0));
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	fx_done(&f);
}

TEST(first_pong_proves_and_sets_endpoint)
{
	union wm_sockaddr a = A("198.51.100.1:51820"), b = A("198.51.100.2:51820");
	uint8_t ta[WM_DISCO_TXID], tb[WM_DISCO_TXID], zero[WM_DISCO_TXID] = { 0 };
	struct fx f;

	probed(&f, &a, &b, ta, tb);
	CHECK(rx_pong(&f, tb, &b, t0 + MS(40)));
	CHECK(f.out.set_endpoint && wm_sockaddr_equal(&f.out.endpoint, &b));
	CHECK(f.out.direct_proven);
	CHECK(f.d.cand[1].rtt_ns == MS(40) && f.d.rtt_ns == MS(40));
	CHECK(f.out.n_send == 0);

	/* the agent takes it */
	f.v.endpoint = b;
	f.v.direct_proven = true;
	/* the same answer again (a new nonce: the peer sent it twice) */
	CHECK(rx_pong(&f, tb, &b, t0 + MS(50)));
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	CHECK(f.d.cand[1].rtt_ns == MS(40));
	/* nor does an all-zero txid answer the ping that was answered */
	CHECK(rx_pong(&f, zero, &b, t0 + MS(60)));
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	CHECK(f.d.cand[1].pong_ns == t0 + MS(40));
	fx_done(&f);
}

/* Endpoint a proven at 100 ms; b answers a later ping in b_rtt while the
 * direct path is proven. It takes over only below 90 %. */
TEST(faster_candidate_takes_over)
{
	static const struct {
		uint64_t b_rtt;
		bool proven, wins;
	} rows[] = {
		{ MS(10), true, true },
		{ MS(90) - 1, true, true },
		{ MS(90), true, false },
		{ MS(99), true, false },
		{ MS(150), true, false },
		{ MS(150), false, true }, /* nothing proven: the first wins */
	};
	union wm_sockaddr a = A("198.51.100.1:51820"), b = A("198.51.100.2:51820");

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t ta[WM_DISCO_TXID], tb[WM_DISCO_TXID];
		uint64_t t1 = t0 + S(1);
		const struct wm_disco_send *p;
		struct fx f;

		probed(&f, &a, &b, ta, tb);
		CHECK(rx_pong(&f, ta, &a, t0 + MS(100)));
		CHECK(f.out.set_endpoint && f.out.direct_proven);
		f.v.endpoint = a;
		f.v.direct_proven = rows[i].proven;
		/* a CALL_ME_MAYBE pings both again at t1 */
		CHECK(rx_cmm(&f, NULL, 0, t1));
		p = ping_to(&f.out, &b);
		CHECK(p != NULL);
		if (!p) {
			fx_done(&f);
			continue;
		}
		memcpy(tb, p->msg.txid, sizeof(tb));
		CHECK(rx_pong(&f, tb, &b, t1 + rows[i].b_rtt));
		if (f.out.set_endpoint != rows[i].wins ||
		    f.out.direct_proven != rows[i].wins) {
			fprintf(stderr, "row %zu: set_endpoint %d proven %d\n", i,
				f.out.set_endpoint, f.out.direct_proven);
			CHECK(!"takeover row");
		}
		if (rows[i].wins)
			CHECK(wm_sockaddr_equal(&f.out.endpoint, &b));
		fx_done(&f);
	}
}

TEST(direct_failed_only_in_auto_with_proof)
{
	static const struct {
		enum wm_path_mode mode;
		bool proven, want;
	} rows[] = {
		{ WM_PATH_AUTO, true, true },
		{ WM_PATH_AUTO, false, false },
		{ WM_PATH_DIRECT, true, false },
		{ WM_PATH_DIRECT, false, false },
		{ WM_PATH_RELAY, true, false },
		{ WM_PATH_RELAY, false, false },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx f;

		fx_init(&f, rows[i].mode);
		f.v.endpoint = A("198.51.100.1:51820");
		f.v.direct_proven = rows[i].proven;
		CHECK(wm_discovery_direct_failed(&f.d, &f.v, t0) == rows[i].want);
		CHECK((f.d.bad_until != 0) == rows[i].want);
		fx_done(&f);
	}
}

/* Proves a, declares it failed at tf, then pings it again and has it
 * answer at `at`: does that pong count? */
static bool pong_counts_after_failure(uint64_t tf, uint64_t at)
{
	union wm_sockaddr a = A("198.51.100.1:51820"), b = A("198.51.100.2:51820");
	uint8_t ta[WM_DISCO_TXID], tb[WM_DISCO_TXID];
	const struct wm_disco_send *p;
	bool counted;
	struct fx f;

	probed(&f, &a, &b, ta, tb);
	CHECK(rx_pong(&f, ta, &a, t0 + MS(20)));
	f.v.endpoint = a;
	f.v.direct_proven = true;
	CHECK(wm_discovery_direct_failed(&f.d, &f.v, tf));
	f.v.direct_proven = false; /* the caller withdraws the proof */
	tick(&f, tf);              /* and probing starts at once */
	CHECK(ping_to(&f.out, &a) != NULL);
	wm_discovery_restart(&f.d);
	tick(&f, at - MS(20));
	p = ping_to(&f.out, &a);
	CHECK(p != NULL);
	if (!p) {
		fx_done(&f);
		return false;
	}
	memcpy(ta, p->msg.txid, sizeof(ta));
	CHECK(rx_pong(&f, ta, &a, at));
	CHECK(f.out.set_endpoint == f.out.direct_proven);
	counted = f.out.direct_proven;
	fx_done(&f);
	return counted;
}

TEST(bad_endpoint_proves_nothing_for_a_while)
{
	uint64_t tf = t0 + S(5), until = tf + S(WM_BAD_ENDPOINT_S);

	CHECK(!pong_counts_after_failure(tf, tf + S(1)));
	CHECK(!pong_counts_after_failure(tf, until - 1));
	CHECK(pong_counts_after_failure(tf, until));
	CHECK(pong_counts_after_failure(tf, until + S(100)));
}

TEST(bad_endpoint_does_not_block_others)
{
	union wm_sockaddr a = A("198.51.100.1:51820"), b = A("198.51.100.2:51820");
	uint8_t ta[WM_DISCO_TXID], tb[WM_DISCO_TXID];
	struct fx f;

	probed(&f, &a, &b, ta, tb);
	CHECK(rx_pong(&f, ta, &a, t0 + MS(20)));
	f.v.endpoint = a;
	f.v.direct_proven = true;
	CHECK(wm_discovery_direct_failed(&f.d, &f.v, t0 + MS(30)));
	f.v.direct_proven = false;
	CHECK(rx_pong(&f, tb, &b, t0 + MS(40)));
	CHECK(f.out.set_endpoint && wm_sockaddr_equal(&f.out.endpoint, &b));
	CHECK(f.out.direct_proven);
	fx_done(&f);
}

/* ---- CALL_ME_MAYBE ---- */

TEST(call_me_maybe_adds_and_pings_at_once)
{
	union wm_sockaddr c[3] = { A("198.51.100.1:51820"), A("[2001:db8::2]:51820"),
				   A("127.0.0.1:51820") /* never pinged */ };
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	CHECK(rx_cmm(&f, c, 3, t0));
	CHECK(f.d.n_cand == 2);
	CHECK(f.out.n_send == 2 && count(&f.out, WM_DISCO_PING) == 2);
	CHECK(ping_to(&f.out, &c[0]) && ping_to(&f.out, &c[1]));
	CHECK(!ping_to(&f.out, &c[2]));
	CHECK(!f.out.set_endpoint && !f.out.direct_proven);
	fx_done(&f);
}

TEST(call_me_maybe_burst_limit)
{
	union wm_sockaddr c = A("198.51.100.1:51820");
	uint64_t w = S(WM_PROBE_MIN_S);
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	for (unsigned i = 0; i < WM_CMM_BURST; i++) {
		CHECK(rx_cmm(&f, &c, 1, t0 + MS(100) * i));
		CHECK(f.out.n_send == 1);
	}
	CHECK(rx_cmm(&f, &c, 1, t0 + w - 1));
	CHECK(f.out.n_send == 0);
	/* an over-limit one adds no candidate either */
	{
		union wm_sockaddr other = A("198.51.100.9:51820");
		CHECK(rx_cmm(&f, &other, 1, t0 + w - 1));
		CHECK(f.out.n_send == 0 && !has_cand(&f.d, &other));
	}
	/* a new window */
	for (unsigned i = 0; i < WM_CMM_BURST; i++) {
		CHECK(rx_cmm(&f, &c, 1, t0 + w + i));
		CHECK(f.out.n_send == 1);
	}
	CHECK(rx_cmm(&f, &c, 1, t0 + w + WM_CMM_BURST));
	CHECK(f.out.n_send == 0);
	fx_done(&f);
}

TEST(call_me_maybe_ignored_in_relay_mode)
{
	union wm_sockaddr c = A("198.51.100.1:51820");
	struct fx f;

	fx_init(&f, WM_PATH_RELAY);
	CHECK(rx_cmm(&f, &c, 1, t0));
	CHECK(f.out.n_send == 0 && f.d.n_cand == 0);
	fx_done(&f);
}

/* ---- replay ---- */

TEST(replayed_nonce_refused)
{
	static const uint8_t txid[WM_DISCO_TXID] = { 1 };
	struct wm_disco_msg m = { .type = WM_DISCO_PING };
	union wm_sockaddr src = A("203.0.113.5:33000");
	uint8_t nonce[24], other[24];
	uint64_t keep = S(3 * WM_DISCO_MAX_SKEW_S);
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	memcpy(m.txid, txid, sizeof(txid));
	for (size_t i = 0; i < sizeof(nonce); i++) {
		nonce[i] = (uint8_t)(0x40 + i);
		other[i] = (uint8_t)(0x80 + i);
	}
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0, &f.out));
	CHECK(f.out.n_send == 1);
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0 + S(1), &f.out));
	CHECK(f.out.n_send == 0);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, other, &src, t0 + S(1), &f.out));
	CHECK(f.out.n_send == 1);
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0 + keep - 1, &f.out));
	CHECK(f.out.n_send == 0);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0 + keep, &f.out));
	CHECK(f.out.n_send == 1);
	/* taken again, so remembered again */
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0 + keep + 1, &f.out));
	fx_done(&f);
}

/* The replay memory exists from the first message until its newest
 * nonce has outlived the clock check; the tick frees it then, and
 * forgetting loses nothing: a replay that old is taken anyway. */
TEST(replay_memory_only_while_needed)
{
	struct wm_disco_msg m = { .type = WM_DISCO_PING };
	union wm_sockaddr src = A("203.0.113.5:33000");
	uint8_t nonce[24] = { 7 }, other[24] = { 8 };
	uint64_t keep = S(3 * WM_DISCO_MAX_SKEW_S);
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	tick(&f, t0);
	CHECK(f.d.seen == NULL);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0, &f.out));
	CHECK(f.d.seen != NULL);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, other, &src, t0 + S(10), &f.out));
	tick(&f, t0 + S(10) + keep - 1); /* other is still live */
	CHECK(f.d.seen != NULL);
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, other, &src,
				    t0 + S(10) + keep - 1, &f.out));
	tick(&f, t0 + S(10) + keep);
	CHECK(f.d.seen == NULL);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, other, &src,
				   t0 + S(10) + keep, &f.out));
	CHECK(f.d.seen != NULL);
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, other, &src,
				    t0 + S(11) + keep, &f.out));
	/* the relay mode's early return does not keep it either */
	f.v.mode = WM_PATH_RELAY;
	tick(&f, t0 + S(10) + 2 * keep);
	CHECK(f.d.seen == NULL);
	fx_done(&f);
}

/* Version 2: replays are told by the sender's counter, never by our
 * clock. A peer whose clock is days off ours is heard; each message is
 * taken once, on the wire or replayed hours later (after the replay
 * memory is gone, and after 256 newer ones pushed it out); a message
 * reordered behind newer ones is still taken while remembered. */
TEST(v2_replay_window_needs_no_clock)
{
	struct wm_disco_msg m = { .type = WM_DISCO_PING, .version = 2 };
	union wm_sockaddr src = A("203.0.113.5:33000");
	uint64_t keep = S(3 * WM_DISCO_MAX_SKEW_S);
	/* The peer's counter: its wall clock in nanoseconds, decades away
	 * from our virtual clock (t0 = 1000 s). */
	const int64_t c0 = (int64_t)S(1700000000);
	uint8_t n1[24] = { 1 }, n2[24] = { 2 }, n3[24] = { 3 }, nb[24] = { 9 };
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	m.sent_at = c0;
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, n1, &src, t0, &f.out));
	CHECK(f.out.n_send == 1);
	/* The same message again: refused, now and long after. */
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, n1, &src, t0 + S(1), &f.out));
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, n1, &src, t0 + keep + S(1),
				    &f.out));
	/* Its counter under another nonce (a forged one cannot be made,
	 * but a resend is the same message): refused too. */
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, n2, &src, t0 + S(2), &f.out));
	/* Newer, then an older one that arrived late: both taken. */
	m.sent_at = c0 + (int64_t)S(5);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, n2, &src, t0 + S(5), &f.out));
	m.sent_at = c0 + (int64_t)S(3);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, n3, &src, t0 + S(5), &f.out));
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, n3, &src, t0 + S(6), &f.out));
	/* Quiet for long: the tick frees the replay memory, the floor rises
	 * to the newest counter, and an hour later every old message is
	 * still refused (no clock decided it). */
	tick(&f, t0 + S(5) + keep);
	CHECK(f.d.seen == NULL);
	for (int i = 0; i <= 5; i++) {
		m.sent_at = c0 + (int64_t)S(i);
		CHECK(!wm_discovery_receive(&f.d, &f.v, &m, nb, &src,
					    t0 + S(3600), &f.out));
	}
	/* The peer goes on (its clock still far off): heard. */
	m.sent_at = c0 + (int64_t)S(3600);
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, nb, &src, t0 + S(3600), &f.out));
	/* 256 newer messages push an old one out of the ring: the floor
	 * rises past it, so its replay is refused all the same. */
	for (int i = 1; i <= WM_DISCO_SEEN; i++) {
		uint8_t n[24] = { 0x55 };
		memcpy(n + 1, &i, sizeof(i));
		m.sent_at = c0 + (int64_t)S(3600) + i;
		CHECK(wm_discovery_receive(&f.d, &f.v, &m, n, &src,
					   t0 + S(3601), &f.out));
	}
	m.sent_at = c0 + (int64_t)S(3600);
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, nb, &src, t0 + S(3602), &f.out));
	CHECK(f.d.ctr_floor >= (uint64_t)c0 + S(3600));
	fx_done(&f);
}

/* ---- heartbeat ---- */

TEST(heartbeat_while_direct)
{
	union wm_sockaddr ep = A("198.51.100.1:51820"), c = A("198.51.100.2:51820");
	uint64_t last = 0;
	unsigned beats = 0;
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	wm_discovery_add_candidate(&f.d, &c);
	f.v.endpoint = ep;
	f.v.direct_proven = true;
	for (uint64_t t = t0; t < t0 + S(20); t += MS(100)) {
		const struct wm_disco_send *p;

		tick(&f, t);
		if (!f.out.n_send)
			continue;
		CHECK(f.out.n_send == 1);
		p = ping_to(&f.out, &ep);
		CHECK(p != NULL);
		if (last)
			CHECK(t - last == S(WM_HEARTBEAT_S));
		last = t;
		beats++;
	}
	CHECK(beats == 20 / WM_HEARTBEAT_S);

	/* its pong keeps the path proven */
	tick(&f, last + S(WM_HEARTBEAT_S));
	CHECK(f.out.n_send == 1);
	if (f.out.n_send == 1) {
		uint8_t txid[WM_DISCO_TXID];

		memcpy(txid, f.out.send[0].msg.txid, sizeof(txid));
		CHECK(rx_pong(&f, txid, &ep, last + S(WM_HEARTBEAT_S) + MS(30)));
		CHECK(f.out.direct_proven);
	}
	/* once proof lapses, probing takes over */
	f.v.direct_proven = false;
	tick(&f, last + S(WM_HEARTBEAT_S) + MS(500));
	CHECK(count(&f.out, WM_DISCO_CALL_ME_MAYBE) == 1);
	CHECK(count(&f.out, WM_DISCO_PING) == 2);
	fx_done(&f);
}

TEST(reset_forgets_but_keeps_replay_memory)
{
	static const uint8_t txid[WM_DISCO_TXID] = { 1 };
	struct wm_disco_msg m = { .type = WM_DISCO_PING };
	union wm_sockaddr src = A("203.0.113.5:33000");
	uint8_t nonce[24] = { 9, 9, 9 };
	struct fx f;

	fx_init(&f, WM_PATH_AUTO);
	memcpy(m.txid, txid, sizeof(txid));
	CHECK(wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0, &f.out));
	CHECK(f.d.n_cand == 1);
	wm_discovery_reset(&f.d);
	CHECK(f.d.n_cand == 0);
	CHECK(!wm_discovery_receive(&f.d, &f.v, &m, nonce, &src, t0 + S(1), &f.out));
	fx_done(&f);
}

int main(void)
{
	RUN(probe_sends_call_me_maybe_and_pings);
	RUN(probe_backoff_doubles_to_max);
	RUN(restart_probes_at_next_tick);
	RUN(relay_mode_never_probes);
	RUN(probe_needs_relay_candidates_or_endpoint);
	RUN(failing_random_sends_no_ping);
	RUN(usable_address_table);
	RUN(no_duplicate_candidates);
	RUN(full_list_replaces_oldest_unanswered);
	RUN(candidates_against_naive_list);
	RUN(ping_answered_with_pong_to_source);
	RUN(relayed_ping_answered_through_relay);
	RUN(relay_mode_pongs_but_learns_nothing);
	RUN(pong_must_answer_our_ping);
	RUN(first_pong_proves_and_sets_endpoint);
	RUN(faster_candidate_takes_over);
	RUN(direct_failed_only_in_auto_with_proof);
	RUN(bad_endpoint_proves_nothing_for_a_while);
	RUN(bad_endpoint_does_not_block_others);
	RUN(call_me_maybe_adds_and_pings_at_once);
	RUN(call_me_maybe_burst_limit);
	RUN(call_me_maybe_ignored_in_relay_mode);
	RUN(replayed_nonce_refused);
	RUN(replay_memory_only_while_needed);
	RUN(v2_replay_window_needs_no_clock);
	RUN(heartbeat_while_direct);
	RUN(reset_forgets_but_keeps_replay_memory);
	return check_summary();
}
