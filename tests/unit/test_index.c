/* The receiver-index table through its public functions only: a few fixed
 * cases, then thousands of random adds, removes and updates (fixed seed)
 * checked against a naive array, with the live set kept small so removals
 * pile up tombstones and force rehashes, and kept large so the table
 * doubles. Peers and sessions are opaque: distinct dummy addresses that are
 * never dereferenced. */
#include "check.h"
#include "agent/wg/index.h"

/* The one place the test reads an entry's peer (index.h may change how an
 * entry names its peer). */
static const struct wm_peer *entry_peer(const struct wm_index_entry *e)
{
	return e->peer;
}

static char peer_tags[16], session_tags[16];

static struct wm_peer *peer(unsigned i)
{
	return (struct wm_peer *)(void *)&peer_tags[i % sizeof(peer_tags)];
}

static struct wm_session *session(unsigned i)
{
	if (i == 0)
		return NULL; /* a handshake */
	return (struct wm_session *)(void *)&session_tags[i %
							 sizeof(session_tags)];
}

/* xorshift64*, so a failure replays identically. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint32_t rnd(uint32_t bound)
{
	return rnd32() % bound;
}

TEST(add_lookup_remove)
{
	struct wm_index t;
	const struct wm_index_entry *e;
	uint32_t a, b;

	CHECK(wm_index_init(&t) == 0);
	CHECK(wm_index_add(&t, peer(1), NULL, &a) == 0);
	CHECK(wm_index_add(&t, peer(2), session(3), &b) == 0);
	CHECK(a != b);

	e = wm_index_lookup(&t, a);
	CHECK(e && e->index == a && entry_peer(e) == peer(1) && !e->session);
	e = wm_index_lookup(&t, b);
	CHECK(e && e->index == b && entry_peer(e) == peer(2) &&
	      e->session == session(3));

	wm_index_remove(&t, a);
	CHECK(!wm_index_lookup(&t, a));
	CHECK(wm_index_lookup(&t, b)); /* its neighbour stays */
	wm_index_remove(&t, a);        /* twice: no effect */
	CHECK(wm_index_lookup(&t, b));
	wm_index_remove(&t, b);
	CHECK(!wm_index_lookup(&t, b));
	wm_index_free(&t);
}

/* A handshake's index becomes its session's; the peer stays. */
TEST(update_remaps_session)
{
	struct wm_index t;
	const struct wm_index_entry *e;
	uint32_t a;

	CHECK(wm_index_init(&t) == 0);
	CHECK(wm_index_add(&t, peer(4), NULL, &a) == 0);
	wm_index_update(&t, a, session(5));
	e = wm_index_lookup(&t, a);
	CHECK(e && entry_peer(e) == peer(4) && e->session == session(5));
	wm_index_update(&t, a, session(6));
	e = wm_index_lookup(&t, a);
	CHECK(e && e->session == session(6));
	/* Updating an unknown index creates nothing. */
	wm_index_remove(&t, a);
	wm_index_update(&t, a, session(7));
	CHECK(!wm_index_lookup(&t, a));
	wm_index_free(&t);
}

TEST(empty_table_knows_nothing)
{
	struct wm_index t;

	CHECK(wm_index_init(&t) == 0);
	for (uint32_t i = 0; i < 1000; i++)
		CHECK(!wm_index_lookup(&t, i * 0x01000193u));
	CHECK(!wm_index_lookup(&t, 0));
	CHECK(!wm_index_lookup(&t, UINT32_MAX));
	wm_index_remove(&t, 12345); /* harmless */
	wm_index_free(&t);
}

/* ----------------------------------------------- against a naive model */

enum { MAX_LIVE = 6000, GONE = 64 };

struct model {
	uint32_t index[MAX_LIVE];
	unsigned peer[MAX_LIVE], session[MAX_LIVE];
	size_t n;
	uint32_t gone[GONE]; /* recently removed, checked to stay gone */
	size_t n_gone;
};

static bool model_has(const struct model *m, uint32_t index)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->index[i] == index)
			return true;
	return false;
}

static int mismatches;

static void expect(bool ok, const char *what, uint32_t index)
{
	if (!ok && mismatches++ < 10)
		fprintf(stderr, "index %08x: %s\n", index, what);
}

static void model_add(struct wm_index *t, struct model *m)
{
	unsigned p = rnd(16), s = rnd(4);
	uint32_t idx;

	if (wm_index_add(t, peer(p), session(s), &idx) != 0) {
		expect(false, "add failed", 0);
		return;
	}
	expect(!model_has(m, idx), "handed out while still live", idx);
	m->index[m->n] = idx;
	m->peer[m->n] = p;
	m->session[m->n] = s;
	m->n++;
	/* A re-added index is no longer "gone". */
	for (size_t i = 0; i < m->n_gone; i++)
		if (m->gone[i] == idx)
			m->gone[i] = m->gone[--m->n_gone];
}

static void model_remove(struct wm_index *t, struct model *m, size_t i)
{
	uint32_t idx = m->index[i];

	wm_index_remove(t, idx);
	expect(!wm_index_lookup(t, idx), "found after remove", idx);
	m->n--;
	m->index[i] = m->index[m->n];
	m->peer[i] = m->peer[m->n];
	m->session[i] = m->session[m->n];
	if (m->n_gone < GONE)
		m->gone[m->n_gone++] = idx;
	else
		m->gone[rnd(GONE)] = idx;
}

static void model_verify(const struct wm_index *t, const struct model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct wm_index_entry *e = wm_index_lookup(t, m->index[i]);

		expect(e != NULL, "live index not found", m->index[i]);
		if (!e)
			continue;
		expect(e->index == m->index[i], "wrong entry", m->index[i]);
		expect(entry_peer(e) == peer(m->peer[i]), "wrong peer",
		       m->index[i]);
		expect(e->session == session(m->session[i]), "wrong session",
		       m->index[i]);
	}
	for (size_t i = 0; i < m->n_gone; i++)
		expect(!wm_index_lookup(t, m->gone[i]), "removed index found",
		       m->gone[i]);
}

/* One random step with the live set steered towards target. */
static void step(struct wm_index *t, struct model *m, size_t target)
{
	uint32_t r = rnd(100);

	if (m->n == 0 || (m->n < target && r < 55) ||
	    (m->n >= target && r < 10)) {
		if (m->n < MAX_LIVE)
			model_add(t, m);
	} else if (r < 85) {
		model_remove(t, m, rnd((uint32_t)m->n));
	} else if (r < 95) {
		size_t i = rnd((uint32_t)m->n);
		unsigned s = 1 + rnd(3);

		wm_index_update(t, m->index[i], session(s));
		m->session[i] = s;
	} else {
		/* A random index is either live in the model or unknown. */
		uint32_t idx = rnd32();

		expect((wm_index_lookup(t, idx) != NULL) == model_has(m, idx),
		       "lookup of a random index disagrees", idx);
	}
}

/* A small live set churned many times: every removal leaves a tombstone,
 * so the table must rehash in place rather than grow without end. */
TEST(churn_small_live_set)
{
	static struct model m;
	struct wm_index t;

	memset(&m, 0, sizeof(m));
	mismatches = 0;
	CHECK(wm_index_init(&t) == 0);
	for (int i = 0; i < 50000; i++) {
		step(&t, &m, 20);
		if (i % 97 == 0)
			model_verify(&t, &m);
	}
	model_verify(&t, &m);
	CHECK(mismatches == 0);
	/* 20-odd live entries never need more than a few hundred slots. */
	CHECK(t.cap <= 512);
	wm_index_free(&t);
}

/* Up to thousands of live entries, down to none, and up again. */
TEST(grow_drain_regrow)
{
	static struct model m;
	struct wm_index t;

	memset(&m, 0, sizeof(m));
	mismatches = 0;
	CHECK(wm_index_init(&t) == 0);
	for (int round = 0; round < 2; round++) {
		while (m.n < 5000)
			model_add(&t, &m);
		model_verify(&t, &m);
		for (int i = 0; i < 20000; i++)
			step(&t, &m, 5000);
		model_verify(&t, &m);
		while (m.n > 0)
			model_remove(&t, &m, rnd((uint32_t)m.n));
		model_verify(&t, &m);
	}
	CHECK(mismatches == 0);
	wm_index_free(&t);
}

int main(void)
{
	RUN(add_lookup_remove);
	RUN(update_remaps_session);
	RUN(empty_table_knows_nothing);
	RUN(churn_small_live_set);
	RUN(grow_drain_regrow);
	return check_summary();
}
