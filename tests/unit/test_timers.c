/*
 * WireGuard's five timers (agent/wg/timers.h) on a virtual clock: each
 * event hook arms or cancels what the whitepaper (6.2-6.5) says, a tick
 * fires exactly what is due, once, and nothing early; retransmits give
 * up after MAX_TIMER_HANDSHAKES and leave keys to be wiped; jitter stays
 * under a third of a second and follows the seed.
 */
#include "check.h"
#include "agent/wg/messages.h"
#include "agent/wg/timers.h"

#define S(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)
#define MS(x) ((uint64_t)(x) * 1000000ULL)
#define JITTER_MAX MS(333)

static const uint64_t t0 = S(1000);

/* The first time in [from, to] at which tick() reports want, stepping
 * like the agent's loop; 0 when it never does. Other actions are ignored. */
static uint64_t first_fire(struct wm_timers *t, uint64_t from, uint64_t to,
			   unsigned want)
{
	for (uint64_t now = from; now <= to; now += MS(WM_TIMERS_TICK_MS))
		if (wm_timers_tick(t, now) & want)
			return now;
	return 0;
}

TEST(nothing_armed_nothing_fires)
{
	struct wm_timers t;

	wm_timers_init(&t, 1);
	CHECK(first_fire(&t, t0, t0 + S(600), ~0u) == 0);
}

/* Data sent and nothing back: a new handshake after KEEPALIVE +
 * REKEY_TIMEOUT (+ jitter); anything authenticated received cancels it. */
TEST(new_handshake_after_silence)
{
	struct wm_timers t;
	uint64_t at, base = S(WM_KEEPALIVE_TIMEOUT + WM_REKEY_TIMEOUT);

	wm_timers_init(&t, 7);
	wm_timers_on_data_sent(&t, t0);
	/* Re-arming while armed keeps the first deadline. */
	wm_timers_on_data_sent(&t, t0 + S(3));
	at = first_fire(&t, t0, t0 + base + S(1), WM_TIMER_NEW_HANDSHAKE);
	CHECK(at >= t0 + base && at <= t0 + base + JITTER_MAX + MS(50));
	CHECK(first_fire(&t, at + 1, at + S(60), WM_TIMER_NEW_HANDSHAKE) == 0);

	wm_timers_init(&t, 7);
	wm_timers_on_data_sent(&t, t0);
	wm_timers_on_authenticated_received(&t, t0 + S(1));
	CHECK(first_fire(&t, t0, t0 + S(60), WM_TIMER_NEW_HANDSHAKE) == 0);
}

/* Data received and nothing sent back: one keepalive after
 * KEEPALIVE_TIMEOUT; more data in the meantime asks for another. */
TEST(keepalive_after_receive)
{
	struct wm_timers t;
	uint64_t at;

	wm_timers_init(&t, 1);
	wm_timers_on_data_received(&t, t0);
	CHECK(first_fire(&t, t0, t0 + S(WM_KEEPALIVE_TIMEOUT) - 1,
			 WM_TIMER_KEEPALIVE) == 0);
	at = first_fire(&t, t0 + S(WM_KEEPALIVE_TIMEOUT) - 1,
			t0 + S(WM_KEEPALIVE_TIMEOUT) + MS(100), WM_TIMER_KEEPALIVE);
	CHECK(at >= t0 + S(WM_KEEPALIVE_TIMEOUT) &&
	      at < t0 + S(WM_KEEPALIVE_TIMEOUT) + MS(100));
	CHECK(first_fire(&t, at + 1, at + S(60), WM_TIMER_KEEPALIVE) == 0);

	/* Sending anything authenticated cancels it. */
	wm_timers_init(&t, 1);
	wm_timers_on_data_received(&t, t0);
	wm_timers_on_authenticated_sent(&t, t0 + S(1));
	CHECK(first_fire(&t, t0, t0 + S(60), WM_TIMER_KEEPALIVE) == 0);

	/* More data while armed: a second keepalive one period later. */
	wm_timers_init(&t, 1);
	wm_timers_on_data_received(&t, t0);
	wm_timers_on_data_received(&t, t0 + S(1));
	at = first_fire(&t, t0, t0 + S(60), WM_TIMER_KEEPALIVE);
	CHECK(at >= t0 + S(WM_KEEPALIVE_TIMEOUT));
	at = first_fire(&t, at + 1, at + S(WM_KEEPALIVE_TIMEOUT) + MS(100),
			WM_TIMER_KEEPALIVE);
	CHECK(at != 0);
	CHECK(first_fire(&t, at + 1, at + S(60), WM_TIMER_KEEPALIVE) == 0);
}

/* An initiation is retried every REKEY_TIMEOUT (+ jitter) until
 * MAX_TIMER_HANDSHAKES retries, then given up; a completed handshake
 * stops the retries. */
TEST(retransmit_then_give_up)
{
	struct wm_timers t;
	uint64_t now, last = t0, gave_up = 0;
	unsigned retries = 0;

	wm_timers_init(&t, 3);
	wm_timers_on_handshake_initiated(&t, t0);
	for (now = t0; now < t0 + S(300) && !gave_up; now += MS(WM_TIMERS_TICK_MS)) {
		unsigned act = wm_timers_tick(&t, now);

		if (act & WM_TIMER_RETRANSMIT) {
			CHECK(now >= last + S(WM_REKEY_TIMEOUT));
			CHECK(now <= last + S(WM_REKEY_TIMEOUT) + JITTER_MAX +
					     MS(WM_TIMERS_TICK_MS));
			retries++;
			last = now;
			/* The caller resends, which arms the timer again. */
			wm_timers_on_handshake_initiated(&t, now);
		}
		if (act & WM_TIMER_GIVE_UP) {
			CHECK(!(act & WM_TIMER_RETRANSMIT));
			CHECK(now >= last + S(WM_REKEY_TIMEOUT));
			gave_up = now;
		}
	}
	/* As the kernel counts: retries while attempts <= the maximum. */
	CHECK(retries == WM_MAX_TIMER_HANDSHAKES + 1);
	CHECK(gave_up != 0);
	/* Giving up arms the wipe of keys, 3 * REJECT_AFTER_TIME later. */
	CHECK(t.zero_key_material == gave_up + S(3 * WM_REJECT_AFTER_TIME));
	CHECK(first_fire(&t, gave_up + 1, gave_up + S(60), WM_TIMER_RETRANSMIT) == 0);

	wm_timers_init(&t, 3);
	wm_timers_on_handshake_initiated(&t, t0);
	wm_timers_on_handshake_complete(&t, t0 + S(1));
	CHECK(first_fire(&t, t0, t0 + S(60), WM_TIMER_RETRANSMIT) == 0);
	CHECK(t.handshake_attempts == 0);
}

TEST(zero_keys_after_session)
{
	struct wm_timers t;
	uint64_t when = t0 + S(3 * WM_REJECT_AFTER_TIME);

	wm_timers_init(&t, 1);
	wm_timers_on_session_derived(&t, t0);
	CHECK((wm_timers_tick(&t, when - 1) & WM_TIMER_ZERO_KEYS) == 0);
	CHECK(wm_timers_tick(&t, when) & WM_TIMER_ZERO_KEYS);
	CHECK((wm_timers_tick(&t, when + S(1)) & WM_TIMER_ZERO_KEYS) == 0);
}

/* PersistentKeepalive: due at once when turned on, then every interval
 * after the last authenticated packet either way; off disarms it. */
TEST(persistent_keepalive)
{
	struct wm_timers t;

	wm_timers_init(&t, 1);
	wm_timers_on_authenticated_traversal(&t, t0);
	CHECK(t.persistent_keepalive == 0); /* off: traversal arms nothing */
	wm_timers_set_persistent_keepalive(&t, 25, t0);
	CHECK(wm_timers_tick(&t, t0) & WM_TIMER_PERSISTENT);
	wm_timers_on_authenticated_traversal(&t, t0);
	CHECK((wm_timers_tick(&t, t0 + S(25) - 1) & WM_TIMER_PERSISTENT) == 0);
	wm_timers_on_authenticated_traversal(&t, t0 + S(10));
	CHECK((wm_timers_tick(&t, t0 + S(25)) & WM_TIMER_PERSISTENT) == 0);
	CHECK(wm_timers_tick(&t, t0 + S(35)) & WM_TIMER_PERSISTENT);
	/* Setting the same interval again does not make one due now. */
	wm_timers_set_persistent_keepalive(&t, 25, t0 + S(36));
	CHECK((wm_timers_tick(&t, t0 + S(36)) & WM_TIMER_PERSISTENT) == 0);
	wm_timers_on_authenticated_traversal(&t, t0 + S(36));
	wm_timers_set_persistent_keepalive(&t, 0, t0 + S(37));
	CHECK(first_fire(&t, t0 + S(37), t0 + S(120), WM_TIMER_PERSISTENT) == 0);
}

/* REKEY_TIMEOUT between initiations; a new (non-retry) attempt resets
 * the retry count, a retry keeps it. */
TEST(initiation_rate_limit)
{
	struct wm_timers t;

	wm_timers_init(&t, 1);
	CHECK(wm_timers_may_initiate(&t, false, t0));
	wm_timers_initiation_sent(&t, t0);
	CHECK(!wm_timers_may_initiate(&t, false, t0 + S(WM_REKEY_TIMEOUT) - 1));
	CHECK(wm_timers_may_initiate(&t, false, t0 + S(WM_REKEY_TIMEOUT)));
	t.handshake_attempts = 4;
	(void)wm_timers_may_initiate(&t, true, t0);
	CHECK(t.handshake_attempts == 4);
	(void)wm_timers_may_initiate(&t, false, t0);
	CHECK(t.handshake_attempts == 0);
}

/* wm_timers_stop disarms every deadline and keeps the interval. */
TEST(stop)
{
	struct wm_timers t;

	wm_timers_init(&t, 1);
	wm_timers_set_persistent_keepalive(&t, 5, t0);
	wm_timers_on_data_sent(&t, t0);
	wm_timers_on_data_received(&t, t0);
	wm_timers_on_handshake_initiated(&t, t0);
	wm_timers_on_session_derived(&t, t0);
	wm_timers_stop(&t);
	CHECK(first_fire(&t, t0, t0 + S(3 * WM_REJECT_AFTER_TIME) + S(1), ~0u) == 0);
	CHECK(t.keepalive_s == 5);
}

/* Jitter: below 333 ms, the same for the same seed, spread across
 * seeds (peers that lost packets together do not retry together). */
TEST(jitter)
{
	uint64_t seen_min = UINT64_MAX, seen_max = 0, a, b;
	struct wm_timers t, u;

	for (uint64_t seed = 1; seed <= 200; seed++) {
		wm_timers_init(&t, seed);
		wm_timers_on_handshake_initiated(&t, t0);
		a = t.retransmit_handshake - t0 - S(WM_REKEY_TIMEOUT);
		CHECK(a < JITTER_MAX);
		if (a < seen_min)
			seen_min = a;
		if (a > seen_max)
			seen_max = a;
		wm_timers_init(&u, seed);
		wm_timers_on_handshake_initiated(&u, t0);
		b = u.retransmit_handshake - t0 - S(WM_REKEY_TIMEOUT);
		CHECK(a == b);
	}
	CHECK(seen_max - seen_min > MS(200));
}

int main(void)
{
	RUN(nothing_armed_nothing_fires);
	RUN(new_handshake_after_silence);
	RUN(keepalive_after_receive);
	RUN(retransmit_then_give_up);
	RUN(zero_keys_after_session);
	RUN(persistent_keepalive);
	RUN(initiation_rate_limit);
	RUN(stop);
	RUN(jitter);
	return check_summary();
}
