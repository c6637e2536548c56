/*
 * The per-source handshake limiter on a virtual clock: the burst, the
 * refill rate, /32 and /64 keys, bounded memory and its garbage
 * collection, and a long random schedule checked against a naive model
 * (one bucket per source in a plain array, no table).
 */
#include "check.h"
#include "agent/wg/ratelimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (1000 * SEC)

static const uint8_t seed[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static bool v4(struct wm_ratelimit *rl, const char *a, uint64_t now)
{
	uint8_t b[4];

	inet_pton(AF_INET, a, b);
	return wm_ratelimit_allow(rl, AF_INET, b, now);
}

static bool v6(struct wm_ratelimit *rl, const char *a, uint64_t now)
{
	uint8_t b[16];

	inet_pton(AF_INET6, a, b);
	return wm_ratelimit_allow(rl, AF_INET6, b, now);
}

TEST(burst_then_refill)
{
	struct wm_ratelimit rl;
	int n = 0;

	CHECK(wm_ratelimit_init(&rl, 0, 0, 0, seed) == 0);
	while (n < 100 && v4(&rl, "192.0.2.1", T0))
		n++;
	CHECK(n == WM_RATELIMIT_BURST);
	/* one handshake's worth of time brings exactly one more */
	CHECK(!v4(&rl, "192.0.2.1", T0 + 49 * MS));
	CHECK(v4(&rl, "192.0.2.1", T0 + 50 * MS));
	CHECK(!v4(&rl, "192.0.2.1", T0 + 50 * MS));
	/* another source is not charged for it */
	CHECK(v4(&rl, "192.0.2.2", T0 + 50 * MS));
	/* a long pause refills the burst, no more */
	n = 0;
	while (n < 100 && v4(&rl, "192.0.2.1", T0 + 100 * SEC))
		n++;
	CHECK(n == WM_RATELIMIT_BURST);
	wm_ratelimit_free(&rl);
}

TEST(steady_rate)
{
	struct wm_ratelimit rl;
	unsigned allowed = 0;

	CHECK(wm_ratelimit_init(&rl, 0, 0, 0, seed) == 0);
	/* 1,000 attempts a second for 10 s */
	for (uint64_t t = 0; t < 10 * SEC; t += MS)
		allowed += v4(&rl, "198.51.100.9", T0 + t);
	CHECK(allowed >= 10 * WM_RATELIMIT_PER_SECOND + WM_RATELIMIT_BURST - 1);
	CHECK(allowed <= 10 * WM_RATELIMIT_PER_SECOND + WM_RATELIMIT_BURST + 1);
	wm_ratelimit_free(&rl);
}

TEST(other_rates)
{
	struct wm_ratelimit rl;
	unsigned allowed = 0;

	/* the relay's: 5 a second, bursts of 5 */
	CHECK(wm_ratelimit_init(&rl, 0, 5, 0, seed) == 0);
	for (uint64_t t = 0; t < 10 * SEC; t += MS)
		allowed += v4(&rl, "198.51.100.9", T0 + t);
	CHECK(allowed >= 10 * 5 + 5 - 1 && allowed <= 10 * 5 + 5 + 1);
	/* a bucket that takes a second to refill is kept that long */
	wm_ratelimit_gc(&rl, T0 + 10 * SEC + 900 * MS);
	CHECK(wm_ratelimit_count(&rl) == 1);
	wm_ratelimit_free(&rl);
	/* 1 a second, bursts of 10: kept until full again, 10 s */
	CHECK(wm_ratelimit_init(&rl, 0, 1, 10, seed) == 0);
	CHECK(v4(&rl, "198.51.100.9", T0));
	wm_ratelimit_gc(&rl, T0 + 5 * SEC);
	CHECK(wm_ratelimit_count(&rl) == 1);
	wm_ratelimit_gc(&rl, T0 + 10 * SEC);
	CHECK(wm_ratelimit_count(&rl) == 0);
	wm_ratelimit_free(&rl);
	CHECK(wm_ratelimit_init(&rl, 0, 2000000000u, 0, seed) == -EINVAL);
	wm_ratelimit_free(&rl);
}

TEST(ipv6_by_64)
{
	struct wm_ratelimit rl;
	int n = 0;

	CHECK(wm_ratelimit_init(&rl, 0, 0, 0, seed) == 0);
	/* one /64, many hosts: one bucket */
	for (int i = 0; i < WM_RATELIMIT_BURST; i++) {
		char a[64];
		snprintf(a, sizeof(a), "2001:db8:1:2::%x", i + 1);
		n += v6(&rl, a, T0);
	}
	CHECK(n == WM_RATELIMIT_BURST);
	CHECK(!v6(&rl, "2001:db8:1:2:ffff::1", T0));
	/* the next /64 has its own */
	CHECK(v6(&rl, "2001:db8:1:3::1", T0));
	/* an IPv4 address equal to the /64's first bytes is another source */
	CHECK(v4(&rl, "32.1.13.184", T0));
	CHECK(wm_ratelimit_count(&rl) == 3);
	/* a v4-mapped address is its IPv4 self, each its own source */
	for (int i = 0; i < WM_RATELIMIT_BURST - 1; i++)
		CHECK(v6(&rl, "::ffff:32.1.13.184", T0));
	CHECK(!v6(&rl, "::ffff:32.1.13.184", T0));
	CHECK(v6(&rl, "::ffff:32.1.13.185", T0));
	CHECK(wm_ratelimit_count(&rl) == 4);
	/* other families are refused */
	CHECK(!wm_ratelimit_allow(&rl, AF_UNIX, "xxxxxxxxxxxxxxxx", T0));
	wm_ratelimit_free(&rl);
}

TEST(bounded_and_collected)
{
	struct wm_ratelimit rl;
	char a[32];
	int n = 0;

	CHECK(wm_ratelimit_init(&rl, 16, 0, 0, seed) == 0);
	for (int i = 0; i < 40; i++) {
		snprintf(a, sizeof(a), "10.0.0.%d", i + 1);
		n += v4(&rl, a, T0);
	}
	/* a full table of live sources refuses new ones, keeps the old */
	CHECK(n == 16);
	CHECK(wm_ratelimit_count(&rl) == 16);
	CHECK(v4(&rl, "10.0.0.1", T0 + 100 * MS));
	/* idle sources are collected: by the tick ... */
	wm_ratelimit_gc(&rl, T0 + 2 * SEC);
	CHECK(wm_ratelimit_count(&rl) == 0);
	/* ... never while they are live */
	for (int i = 0; i < 16; i++) {
		snprintf(a, sizeof(a), "10.0.1.%d", i + 1);
		CHECK(v4(&rl, a, T0 + 2 * SEC));
	}
	wm_ratelimit_gc(&rl, T0 + 2 * SEC + 500 * MS);
	CHECK(wm_ratelimit_count(&rl) == 16);
	CHECK(!v4(&rl, "10.0.2.1", T0 + 2 * SEC + 900 * MS));
	/* ... or on demand, when a new source finds the table full */
	CHECK(v4(&rl, "10.0.2.1", T0 + 4 * SEC));
	CHECK(wm_ratelimit_count(&rl) == 1);
	wm_ratelimit_free(&rl);
	wm_ratelimit_free(&rl); /* twice is harmless */
}

/* The naive model: an array of (source, tokens, last), no table limit. */
struct model {
	uint32_t src[64];
	uint64_t tokens[64], last[64];
	int n;
};

static bool model_allow(struct model *m, uint32_t src, uint64_t now)
{
	const uint64_t cost = SEC / WM_RATELIMIT_PER_SECOND,
		       max = cost * WM_RATELIMIT_BURST;
	int i;

	for (i = 0; i < m->n && m->src[i] != src; i++)
		;
	if (i == m->n) {
		m->n++;
		m->src[i] = src;
		m->tokens[i] = max;
		m->last[i] = now;
	}
	m->tokens[i] += now - m->last[i];
	if (m->tokens[i] > max)
		m->tokens[i] = max;
	m->last[i] = now;
	if (m->tokens[i] < cost)
		return false;
	m->tokens[i] -= cost;
	return true;
}

TEST(matches_naive_model)
{
	static struct model m;
	struct wm_ratelimit rl;
	uint64_t now = T0, x = 0x9e3779b97f4a7c15ULL;
	int mismatches = 0, allowed = 0;

	CHECK(wm_ratelimit_init(&rl, 64, 0, 0, seed) == 0);
	for (int i = 0; i < 200000; i++) {
		uint32_t src;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		now += x % (2 * MS);      /* ~1,000 attempts a second */
		src = htonl(0x0a000000u | (uint32_t)(x >> 40) % 40);
		bool got = wm_ratelimit_allow(&rl, AF_INET, &src, now);
		mismatches += got != model_allow(&m, src, now);
		allowed += got;
		if (i % 5000 == 0)
			wm_ratelimit_gc(&rl, now);
	}
	CHECK(mismatches == 0);
	/* 40 sources at 20/s for ~200 s */
	CHECK(allowed > 40 * 20 * 150 && allowed < 40 * 20 * 250);
	wm_ratelimit_free(&rl);
}

int main(void)
{
	RUN(burst_then_refill);
	RUN(steady_rate);
	RUN(other_rates);
	RUN(ipv6_by_64);
	RUN(bounded_and_collected);
	RUN(matches_naive_model);
	return check_summary();
}
