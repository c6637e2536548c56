/* See tick.h. */
#include "agent/tick.h"
#include "agent/peer_disco.h"
#include "agent/peer_path.h"
#include "agent/relays.h"
#include "agent/send.h"
#include "agent/wg/clock.h"

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

static void act_on_timers(struct wm_device *dev, struct wm_peer *p,
			  unsigned act, uint64_t now)
{
	/* A handshake that needs a retry, or data that got no answer, while
	 * the direct path was in use: WireGuard says that path is dead,
	 * whatever its pongs say. */
	if (act & (WM_TIMER_RETRANSMIT | WM_TIMER_GIVE_UP | WM_TIMER_NEW_HANDSHAKE))
		wm_peer_disco_direct_failed(dev, p, now);
	if (act & WM_TIMER_GIVE_UP)
		wm_peer_clear_staged(p);
	if (act & WM_TIMER_RETRANSMIT)
		wm_send_initiation(dev, p, true, now);
	if (act & WM_TIMER_KEEPALIVE)
		wm_send_keepalive(dev, p, now);
	if (act & WM_TIMER_NEW_HANDSHAKE)
		wm_send_initiation(dev, p, false, now);
	if (act & WM_TIMER_ZERO_KEYS)
		wm_peer_zero_sessions(p);
	if (act & WM_TIMER_PERSISTENT)
		wm_send_keepalive(dev, p, now);
}

/* Pongs can be forwarded by anyone who sees them; WireGuard packets prove
 * more. When data has gone straight to the endpoint for a while and no
 * authenticated WireGuard packet came back that way (the answers arrive
 * through the relay, or not at all), the direct path is not working. */
static void check_direct_liveness(struct wm_device *dev, struct wm_peer *p,
				  uint64_t now)
{
	if (p->via != WM_VIA_DIRECT || !p->direct_tx_since ||
	    p->wg_direct_rx_ns >= p->direct_tx_since ||
	    wm_since(now, p->direct_tx_since) <
		    SEC(WM_KEEPALIVE_TIMEOUT + WM_REKEY_TIMEOUT))
		return;
	p->direct_tx_since = 0;
	wm_peer_disco_direct_failed(dev, p, now);
}

void wm_tick_peers(struct wm_device *dev, uint64_t now)
{
	for (struct wm_peer *p = dev->peers; p; p = p->next) {
		unsigned act = wm_timers_tick(&p->timers, now);

		if (act)
			act_on_timers(dev, p, act, now);
		check_direct_liveness(dev, p, now);
		wm_peer_disco_tick(dev, p, now);
		/* Proofs expire with time alone. */
		wm_peer_path_update(dev, p, now);
		/* Packets wait and a path exists (it may have just appeared:
		 * an endpoint set by config, the API or `wg set`): start the
		 * handshake now rather than at the next retransmit. Rate
		 * limited by REKEY_TIMEOUT inside. */
		if (p->staged_len && p->via != WM_VIA_NONE &&
		    !wm_session_can_send(p->current, now))
			wm_send_initiation(dev, p, false, now);
	}
}

void wm_tick_relay_changed(struct wm_device *dev, uint64_t now)
{
	wm_peer_path_update_all(dev, now);
	if (!wm_relays_any_up(dev->relays))
		return;
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		if (p->staged_len || p->persistent_keepalive)
			wm_send_initiation(dev, p, false, now);
}
