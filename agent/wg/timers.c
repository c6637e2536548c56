/* See timers.h for the list of timers and what arms each. */
#include "agent/wg/timers.h"
#include "agent/wg/clock.h"
#include "agent/wg/messages.h"

#include <string.h>

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

/* Up to a third of a second, so peers that lost packets together do not
 * retry together (xorshift64*: jitter needs spread, not secrecy). */
static uint64_t jitter(struct wm_timers *t)
{
	uint64_t x = t->jitter_state ? t->jitter_state : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->jitter_state = x;
	return ((x * 0x2545f4914f6cdd1dULL) >> 32) % 333 * 1000000ULL;
}

static void arm(uint64_t *deadline, uint64_t now, uint64_t delay)
{
	*deadline = now + delay;
	if (*deadline == 0)
		*deadline = 1;
}

void wm_timers_init(struct wm_timers *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->jitter_state = seed;
}

void wm_timers_on_data_sent(struct wm_timers *t, uint64_t now)
{
	if (!t->new_handshake)
		arm(&t->new_handshake, now,
		    SEC(WM_KEEPALIVE_TIMEOUT + WM_REKEY_TIMEOUT) + jitter(t));
}

void wm_timers_on_data_received(struct wm_timers *t, uint64_t now)
{
	if (!t->send_keepalive)
		arm(&t->send_keepalive, now, SEC(WM_KEEPALIVE_TIMEOUT));
	else
		t->need_another_keepalive = true;
}

void wm_timers_on_authenticated_sent(struct wm_timers *t, uint64_t now)
{
	(void)now;
	t->send_keepalive = 0;
}

void wm_timers_on_authenticated_received(struct wm_timers *t, uint64_t now)
{
	(void)now;
	t->new_handshake = 0;
}

void wm_timers_on_authenticated_traversal(struct wm_timers *t, uint64_t now)
{
	if (t->keepalive_s)
		arm(&t->persistent_keepalive, now, SEC(t->keepalive_s));
}

void wm_timers_on_handshake_initiated(struct wm_timers *t, uint64_t now)
{
	arm(&t->retransmit_handshake, now, SEC(WM_REKEY_TIMEOUT) + jitter(t));
}

void wm_timers_on_handshake_complete(struct wm_timers *t, uint64_t now)
{
	(void)now;
	t->retransmit_handshake = 0;
	t->handshake_attempts = 0;
}

void wm_timers_on_session_derived(struct wm_timers *t, uint64_t now)
{
	arm(&t->zero_key_material, now, SEC(3 * WM_REJECT_AFTER_TIME));
}

bool wm_timers_may_initiate(struct wm_timers *t, bool is_retry, uint64_t now)
{
	if (!is_retry)
		t->handshake_attempts = 0;
	return !t->last_initiation_sent ||
	       wm_since(now, t->last_initiation_sent) >= SEC(WM_REKEY_TIMEOUT);
}

void wm_timers_initiation_sent(struct wm_timers *t, uint64_t now)
{
	t->last_initiation_sent = now ? now : 1;
}

void wm_timers_set_persistent_keepalive(struct wm_timers *t, uint16_t secs,
					uint64_t now)
{
	bool was_off = t->keepalive_s == 0;

	t->keepalive_s = secs;
	if (!secs)
		t->persistent_keepalive = 0;
	else if (was_off)
		arm(&t->persistent_keepalive, now, 0);
}

void wm_timers_stop(struct wm_timers *t)
{
	uint16_t keep = t->keepalive_s;
	uint64_t seed = t->jitter_state;

	wm_timers_init(t, seed);
	t->keepalive_s = keep;
}

static bool due(uint64_t *deadline, uint64_t now)
{
	if (!*deadline || *deadline > now)
		return false;
	*deadline = 0;
	return true;
}

unsigned wm_timers_tick(struct wm_timers *t, uint64_t now)
{
	unsigned act = 0;

	if (due(&t->retransmit_handshake, now)) {
		if (t->handshake_attempts > WM_MAX_TIMER_HANDSHAKES) {
			/* Give up, and wipe keys later if nothing better
			 * happens. */
			act |= WM_TIMER_GIVE_UP;
			if (!t->zero_key_material)
				arm(&t->zero_key_material, now,
				    SEC(3 * WM_REJECT_AFTER_TIME));
		} else {
			t->handshake_attempts++;
			act |= WM_TIMER_RETRANSMIT;
		}
	}
	if (due(&t->send_keepalive, now)) {
		act |= WM_TIMER_KEEPALIVE;
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			arm(&t->send_keepalive, now, SEC(WM_KEEPALIVE_TIMEOUT));
		}
	}
	if (due(&t->new_handshake, now))
		act |= WM_TIMER_NEW_HANDSHAKE;
	if (due(&t->zero_key_material, now))
		act |= WM_TIMER_ZERO_KEYS;
	if (due(&t->persistent_keepalive, now) && t->keepalive_s)
		act |= WM_TIMER_PERSISTENT;
	return act;
}
