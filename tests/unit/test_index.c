/* The receiver-index table (agent/wg/index.h): a random walk of adds,
 * updates and removes checked against a naive model (an array scanned
 * from end to end), on a growing table and on a fixed one, with indices
 * drawn from a small range so that probes collide and wrap. */
#include "check.h"
#include "agent/wg/index.h"

#include <errno.h>

enum { MODEL_MAX = 600 };

struct model {
	uint32_t index[MODEL_MAX];
	void *owner[MODEL_MAX];
	struct wm_session *session[MODEL_MAX];
	size_t n;
};

static uint64_t rng_state;

static uint32_t next_rand(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

/* Indices in [0, 1024) plus a high bit now and then: many collisions
 * on the low bits, which pick the home slot. */
static int clustered_random(void *ctx, void *buf, size_t len)
{
	uint32_t v = next_rand() & 1023;

	(void)ctx;
	if (next_rand() & 1)
		v |= 0x80000000u;
	CHECK(len == sizeof(v));
	memcpy(buf, &v, sizeof(v));
	return 0;
}

static int constant_random(void *ctx, void *buf, size_t len)
{
	memset(buf, 0x5a, len);
	return *(int *)ctx;
}

static void check_model(const struct wm_index *t, const struct model *m)
{
	CHECK(t->used == m->n);
	for (size_t i = 0; i < m->n; i++) {
		const struct wm_index_entry *e = wm_index_lookup(t, m->index[i]);

		CHECK(e && e->index == m->index[i] && e->owner == m->owner[i] &&
		      e->session == m->session[i]);
	}
}

static void walk(struct wm_index *t, size_t limit, int steps)
{
	static char owners[16];
	struct model m = { .n = 0 };

	for (int step = 0; step < steps; step++) {
		uint32_t r = next_rand() % 100, idx;

		if (r < 50 && m.n < limit) {
			void *owner = &owners[next_rand() % 16];
			int err = wm_index_add(t, owner, NULL, &idx);

			/* 1024 low values * 2: the table may run out of
			 * fresh indices only when nearly all are taken */
			if (err == -EAGAIN)
				continue;
			CHECK(err == 0);
			for (size_t i = 0; i < m.n; i++)
				CHECK(m.index[i] != idx);
			m.index[m.n] = idx;
			m.owner[m.n] = owner;
			m.session[m.n++] = NULL;
		} else if (r < 65 && m.n) {
			size_t i = next_rand() % m.n;
			struct wm_session *s = (struct wm_session *)&owners[i % 16];

			wm_index_update(t, m.index[i], s);
			m.session[i] = s;
		} else if (r < 95 && m.n) {
			size_t i = next_rand() % m.n;

			wm_index_remove(t, m.index[i]);
			CHECK(!wm_index_lookup(t, m.index[i]));
			m.n--;
			m.index[i] = m.index[m.n];
			m.owner[i] = m.owner[m.n];
			m.session[i] = m.session[m.n];
		} else {
			/* unknown indices: looked up, updated and removed
			 * without effect */
			uint32_t u = next_rand() & 1023;
			bool known = false;

			for (size_t i = 0; i < m.n; i++)
				known |= m.index[i] == u;
			if (!known) {
				CHECK(!wm_index_lookup(t, u));
				wm_index_update(t, u, NULL);
				wm_index_remove(t, u);
			}
		}
		check_model(t, &m);
	}
}

TEST(growing_table_vs_model)
{
	struct wm_index t;

	CHECK(wm_index_init(&t) == 0);
	/* the system CSPRNG by default; swap in a clustered one */
	t.random = clustered_random;
	rng_state = 1;
	walk(&t, MODEL_MAX, 20000);
	CHECK(t.cap > 64);
	wm_index_free(&t);
}

TEST(fixed_table_vs_model)
{
	struct wm_index t;
	struct wm_index_entry *slots;

	rng_state = 2;
	CHECK(wm_index_init_fixed(&t, 40, clustered_random, NULL) == 0);
	CHECK(t.cap == 128);
	slots = t.slots;
	walk(&t, 40, 20000);
	CHECK(t.slots == slots && t.cap == 128); /* never reallocated */
	wm_index_free(&t);
}

TEST(fixed_table_refuses_past_max)
{
	struct wm_index t;
	uint32_t idx;

	rng_state = 3;
	CHECK(wm_index_init_fixed(&t, 3, clustered_random, NULL) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(wm_index_add(&t, &t, NULL, &idx) == 0);
	CHECK(wm_index_add(&t, &t, NULL, &idx) == -ENOSPC);
	wm_index_remove(&t, idx);
	CHECK(wm_index_add(&t, &t, NULL, &idx) == 0);
	wm_index_free(&t);
	CHECK(wm_index_init_fixed(&t, 0, clustered_random, NULL) == -EINVAL);
}

/* A given index (a table rebuilt with its sessions): found where it was
 * put, never twice, and a fixed table's limit holds. */
TEST(insert_given_index)
{
	struct wm_index t;
	struct wm_session *s = (struct wm_session *)&t;
	uint32_t idx;

	rng_state = 5;
	CHECK(wm_index_init_fixed(&t, 3, clustered_random, NULL) == 0);
	CHECK(wm_index_insert(&t, 7, &t, s) == 0);
	CHECK(wm_index_insert(&t, 7 + 1024, &t, NULL) == 0); /* same home */
	CHECK(wm_index_insert(&t, 7, &t, NULL) == -EEXIST);
	CHECK(wm_index_lookup(&t, 7) && wm_index_lookup(&t, 7)->session == s);
	CHECK(wm_index_lookup(&t, 7 + 1024) &&
	      !wm_index_lookup(&t, 7 + 1024)->session);
	CHECK(wm_index_add(&t, &t, NULL, &idx) == 0 && idx != 7);
	CHECK(wm_index_insert(&t, 9, &t, NULL) == -ENOSPC);
	wm_index_remove(&t, 7);
	CHECK(!wm_index_lookup(&t, 7) && wm_index_lookup(&t, 7 + 1024));
	wm_index_free(&t);
}

TEST(random_failures)
{
	struct wm_index t;
	uint32_t idx;
	int ret = 0;

	CHECK(wm_index_init_fixed(&t, 4, constant_random, &ret) == 0);
	CHECK(wm_index_add(&t, &t, NULL, &idx) == 0 && idx == 0x5a5a5a5a);
	/* every draw taken: gives up instead of spinning */
	CHECK(wm_index_add(&t, &t, NULL, &idx) == -EAGAIN);
	ret = -EIO;
	CHECK(wm_index_add(&t, &t, NULL, &idx) == -EIO);
	CHECK(t.used == 1);
	wm_index_free(&t);
}

TEST(system_random_indices)
{
	struct wm_index t;
	uint32_t a, b;
	int owner;

	CHECK(wm_index_init(&t) == 0);
	CHECK(wm_index_add(&t, &owner, NULL, &a) == 0);
	CHECK(wm_index_add(&t, &owner, NULL, &b) == 0);
	CHECK(a != b);
	CHECK(wm_index_lookup(&t, a)->owner == &owner);
	wm_index_free(&t);
}

int main(void)
{
	RUN(growing_table_vs_model);
	RUN(fixed_table_vs_model);
	RUN(fixed_table_refuses_past_max);
	RUN(insert_given_index);
	RUN(random_failures);
	RUN(system_random_indices);
	return check_summary();
}
