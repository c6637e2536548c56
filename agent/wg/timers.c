/* See timers.h for the list of timers and what arms each. */
#include "agent/wg/timers.h"
#include "agent/wg/clock.h"
#include "agent/datapath.h"
#include "agent/device.h"
#include "agent/nat/discovery.h"
#include "agent/wg/messages.h"
#include "crypto/random.h"

#include <string.h>

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

/* Up to a third of a second, so peers that lost packets together do not
 * retry together. */
static uint64_t jitter(struct wm_peer *p)
{
	return (uint64_t)wm_fast_random_below(&p->dev->jitter_state, 333) *
	       1000000ULL;
}

static void arm(uint64_t *deadline, uint64_t delay)
{
	*deadline = wm_now_ns() + delay;
	if (*deadline == 0)
		*deadline = 1;
}

void wm_timers_on_data_sent(struct wm_peer *p)
{
	if (!p->timers.new_handshake)
		arm(&p->timers.new_handshake,
		    SEC(WM_KEEPALIVE_TIMEOUT + WM_REKEY_TIMEOUT) + jitter(p));
}

void wm_timers_on_data_received(struct wm_peer *p)
{
	if (!p->timers.send_keepalive)
		arm(&p->timers.send_keepalive, SEC(WM_KEEPALIVE_TIMEOUT));
	else
		p->timers.need_another_keepalive = true;
}

void wm_timers_on_authenticated_sent(struct wm_peer *p)
{
	p->timers.send_keepalive = 0;
}

void wm_timers_on_authenticated_received(struct wm_peer *p)
{
	p->timers.new_handshake = 0;
}

void wm_timers_on_authenticated_traversal(struct wm_peer *p)
{
	if (p->persistent_keepalive)
		arm(&p->timers.persistent_keepalive,
		    SEC(p->persistent_keepalive));
}

void wm_timers_on_handshake_initiated(struct wm_peer *p)
{
	arm(&p->timers.retransmit_handshake, SEC(WM_REKEY_TIMEOUT) + jitter(p));
}

void wm_timers_on_handshake_complete(struct wm_peer *p)
{
	p->timers.retransmit_handshake = 0;
	p->timers.handshake_attempts = 0;
}

void wm_timers_on_session_derived(struct wm_peer *p)
{
	arm(&p->timers.zero_key_material, SEC(3 * WM_REJECT_AFTER_TIME));
}

void wm_timers_persistent_keepalive_now(struct wm_peer *p)
{
	arm(&p->timers.persistent_keepalive, 0);
}

void wm_timers_stop(struct wm_peer *p)
{
	memset(&p->timers, 0, sizeof(p->timers));
}

static bool due(uint64_t *deadline, uint64_t now)
{
	if (!*deadline || *deadline > now)
		return false;
	*deadline = 0;
	return true;
}

static void retransmit(struct wm_peer *p)
{
	if (p->timers.handshake_attempts > WM_MAX_TIMER_HANDSHAKES) {
		/* Give up: drop what waited, and wipe keys later if nothing
		 * better happens. */
		wm_peer_clear_staged(p);
		if (!p->timers.zero_key_material)
			arm(&p->timers.zero_key_material,
			    SEC(3 * WM_REJECT_AFTER_TIME));
		return;
	}
	p->timers.handshake_attempts++;
	wm_handshake_initiate(p, true);
}

static void tick_peer(struct wm_peer *p, uint64_t now)
{
	if (due(&p->timers.retransmit_handshake, now)) {
		wm_discovery_direct_failed(p, now);
		retransmit(p);
	}
	if (due(&p->timers.send_keepalive, now)) {
		wm_send_keepalive(p);
		if (p->timers.need_another_keepalive) {
			p->timers.need_another_keepalive = false;
			arm(&p->timers.send_keepalive, SEC(WM_KEEPALIVE_TIMEOUT));
		}
	}
	if (due(&p->timers.new_handshake, now)) {
		wm_discovery_direct_failed(p, now);
		wm_handshake_initiate(p, false);
	}
	if (due(&p->timers.zero_key_material, now))
		wm_peer_zero_sessions(p);
	if (due(&p->timers.persistent_keepalive, now) && p->persistent_keepalive)
		wm_send_keepalive(p);
}

void wm_timers_tick(struct wm_device *dev, uint64_t now_ns)
{
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		tick_peer(p, now_ns);
}
