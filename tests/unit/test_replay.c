/* The replay window: a numbered table of cases, then a random walk checked
 * against a naive model (the set of counters seen, and the greatest). */
#include "check.h"
#include "agent/wg/replay.h"

#define W ((uint64_t)WM_REPLAY_WINDOW)
#define L (W + 1) /* the first counter that can push 0 out of the window */
#define REJ WM_REJECT_AFTER_MESSAGES

struct step {
	uint64_t counter;
	bool want;
};

static void run_table(const struct step *s, size_t n, const char *name)
{
	struct wm_replay r;

	wm_replay_init(&r);
	for (size_t i = 0; i < n; i++) {
		bool got = wm_replay_check(&r, s[i].counter);

		if (got != s[i].want) {
			fprintf(stderr, "%s case %zu: counter %llu gave %d\n",
				name, i + 1, (unsigned long long)s[i].counter,
				got);
			CHECK(got == s[i].want);
		}
	}
}

TEST(numbered_cases)
{
	static const struct step steps[] = {
		/*  1 */ { 0, true },            /* the first packet */
		/*  2 */ { 0, false },           /* its duplicate */
		/*  3 */ { 1, true },
		/*  4 */ { 1, false },
		/*  5 */ { 9, true },            /* a small jump ahead */
		/*  6 */ { 8, true },            /* the gap fills in */
		/*  7 */ { 7, true },
		/*  8 */ { 7, false },
		/*  9 */ { L, true },            /* 0 just leaves the window */
		/* 10 */ { L - 1, true },
		/* 11 */ { L - 1, false },
		/* 12 */ { L - 2, true },
		/* 13 */ { 2, true },            /* greatest - (W - 1) */
		/* 14 */ { 2, false },
		/* 15 */ { 0, false },           /* greatest - L: too old */
		/* 16 */ { L + 16, true },
		/* 17 */ { 3, false },           /* now too old */
		/* 18 */ { L + 16, false },
		/* 19 */ { 4 * L, true },        /* far jump over many words */
		/* 20 */ { 4 * L - W, true },    /* the oldest acceptable */
		/* 21 */ { 4 * L - W, false },
		/* 22 */ { 4 * L - W - 1, false }, /* one past the edge */
		/* 23 */ { 4 * L - L, false },
		/* 24 */ { 10, false },
		/* 25 */ { 4 * L - W + 1, true },
		/* 26 */ { 4 * L - 1, true },
		/* 27 */ { 4 * L + 1, true },
		/* 28 */ { 4 * L, false },
		/* 29 */ { 0, false },
		/* A slot reused one lap (2048) later must have been cleared. */
		/* 30 */ { 100000, true },
		/* 31 */ { 100000 + WM_REPLAY_BITS, true },
		/* 32 */ { 100000, false },
		/* 33 */ { 100000 + WM_REPLAY_BITS - 1, true },
		/* 34 */ { 100000 + 2 * WM_REPLAY_BITS, true },
		/* 35 */ { 100000 + WM_REPLAY_BITS, false }, /* now too old */
		/* 36 */ { 100000 + 2 * WM_REPLAY_BITS - W, true },
		/* 37 */ { 100000 + 2 * WM_REPLAY_BITS - W - 1, false },
		/* A jump of many laps clears every word, the old one too. */
		/* 38 */ { 200000, true },
		/* 39 */ { 200000 + 10 * WM_REPLAY_BITS, true },
		/* 40 */ { 200000 + 10 * WM_REPLAY_BITS, false },
		/* The REJECT_AFTER_MESSAGES limit. */
		/* 41 */ { REJ, false },
		/* 42 */ { REJ - 1, true },
		/* 43 */ { REJ, false },
		/* 44 */ { REJ - 1, false },
		/* 45 */ { REJ - 2, true },
		/* 46 */ { REJ + 1, false },
		/* 47 */ { UINT64_MAX, false },
		/* 48 */ { REJ - 2, false },
		/* 49 */ { REJ - 3, true },
		/* 50 */ { REJ - 1 - W, true },
		/* 51 */ { REJ - 2 - W, false },
		/* 52 */ { 0, false },
	};

	run_table(steps, sizeof(steps) / sizeof(steps[0]), "table");
}

TEST(fresh_window_edges)
{
	struct wm_replay r;
	uint64_t i;
	int bad = 0;

	/* Ascending to W leaves 0 exactly at the edge. */
	wm_replay_init(&r);
	for (i = 1; i <= W; i++)
		bad += !wm_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(wm_replay_check(&r, 0));
	CHECK(!wm_replay_check(&r, 0));

	/* One more and 0 would have been too old. */
	wm_replay_init(&r);
	for (i = 1; i <= L; i++)
		bad += !wm_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(!wm_replay_check(&r, 0));

	/* Descending from W fills the whole window. */
	wm_replay_init(&r);
	for (i = W + 1; i-- > 0;)
		bad += !wm_replay_check(&r, i);
	CHECK(bad == 0);
	for (i = 0; i <= W; i++)
		bad += wm_replay_check(&r, i);
	CHECK(bad == 0);

	/* Every 63rd counter across several laps, then none again. */
	wm_replay_init(&r);
	for (i = 0; i < 10 * WM_REPLAY_BITS; i += 63)
		bad += !wm_replay_check(&r, i);
	CHECK(bad == 0);
	for (i = 0; i < 10 * WM_REPLAY_BITS; i += 63)
		bad += wm_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(wm_replay_check(&r, 10 * WM_REPLAY_BITS - 2));
}

/* The model: remember every accepted counter still within W of the
 * greatest, scan them linearly. */
struct model {
	bool any;
	uint64_t greatest;
	uint64_t *seen;
	size_t n;
};

static bool model_check(struct model *m, uint64_t c)
{
	size_t i;

	if (c >= REJ)
		return false;
	if (m->any && c < m->greatest && m->greatest - c > W)
		return false;
	for (i = 0; i < m->n; i++)
		if (m->seen[i] == c)
			return false;
	if (!m->any || c > m->greatest) {
		size_t j = 0;

		m->any = true;
		m->greatest = c;
		for (i = 0; i < m->n; i++)
			if (m->greatest - m->seen[i] <= W)
				m->seen[j++] = m->seen[i];
		m->n = j;
	}
	m->seen[m->n++] = c;
	return true;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* Returns how many counters were accepted. */
static int random_walk(uint64_t start, int rounds)
{
	struct wm_replay r;
	struct model m = { false, 0, calloc(W + 2, sizeof(uint64_t)), 0 };
	uint64_t c = start;
	int mismatches = 0, accepted = 0;

	wm_replay_init(&r);
	for (int i = 0; i < rounds; i++) {
		uint64_t top = m.any ? m.greatest : start;
		unsigned what = (unsigned)below(100);

		if (what < 35)
			c = top + 1 + below(3);
		else if (what < 60)
			c = top - below(W + 64);
		else if (what < 70)
			c = top - W - 2 + below(5); /* around the edge */
		else if (what < 82)
			c = top + below(5 * WM_REPLAY_BITS);
		else if (what < 84)
			c = top + below(UINT64_C(1) << 40);
		else if (what < 92) /* a lap ahead: slots that need clearing */
			c = top + WM_REPLAY_BITS - 2 +
			    below(WM_REPLAY_WORD_BITS * 3);
		/* else: c stays, a duplicate of the last one */

		bool want = model_check(&m, c), got = wm_replay_check(&r, c);

		accepted += want;
		if (want != got && mismatches++ < 5)
			fprintf(stderr, "round %d: counter %llu: want %d got %d\n",
				i, (unsigned long long)c, want, got);
	}
	CHECK(mismatches == 0);
	free(m.seen);
	return accepted;
}

TEST(random_vs_model)
{
	rng_state = 0x5eed0001;
	/* Both answers must be common, or the walk proves little. */
	CHECK(random_walk(0, 30000) > 30000 / 4);
	CHECK(random_walk(1000000, 30000) > 30000 / 4);
}

TEST(random_vs_model_near_reject_limit)
{
	rng_state = 0x5eed0002;
	CHECK(random_walk(REJ - 60000, 20000) > 0);
}

int main(void)
{
	RUN(numbered_cases);
	RUN(fresh_window_edges);
	RUN(random_vs_model);
	RUN(random_vs_model_near_reject_limit);
	return check_summary();
}
