/* See peer_path.h. */
#include "agent/peer_path.h"
#include "agent/relays.h"

#include <string.h>

bool wm_peer_path_relay_up(const struct wm_device *dev,
			   const struct wm_peer *p)
{
	return wm_relays_up(dev->relays, p->relay);
}

/* Which relay carries p (relays.h), before the path is chosen. True when
 * every relay that is up said p is not connected there. */
static bool pick_relay(struct wm_device *dev, struct wm_peer *p, uint64_t now)
{
	bool all_gone;

	p->relay = wm_relays_pick(dev->relays, p->relay, p->relay_gone, now,
				  &all_gone);
	return all_gone;
}

void wm_peer_path_update(struct wm_device *dev, struct wm_peer *p,
			 uint64_t now)
{
	enum wm_via v, shown;
	struct wm_event ev = { .type = WM_EVENT_PATH };

	pick_relay(dev, p, now);
	v = wm_path_choose(&p->path, p->path_mode, wm_peer_has_endpoint(p),
			   wm_peer_path_relay_up(dev, p), now);
	shown = wm_path_shown(&p->path, v, now);
	if (v != p->via) {
		/* The liveness clock of a path starts anew with the path. */
		if (p->via == WM_VIA_DIRECT)
			p->direct_tx_since = 0;
		if (p->via == WM_VIA_RELAY)
			p->path.relay_tx_since = 0;
		p->via = v;
	}
	/* What is announced is the path as shown: a direct path that went
	 * quiet is an event too, though sending still tries it. */
	if (shown == p->shown)
		return;
	/* The first direct path is the first one shown: one that answered. */
	if (shown == WM_VIA_DIRECT && !p->first_direct_ns) {
		p->first_direct_ns = now;
		wm_peer_path_alive(p, now);
	}
	ev.old_via = p->shown;
	ev.via = shown;
	memcpy(ev.key, p->public_key, WM_KEY_SIZE);
	p->shown = shown;
	wm_event_push(&dev->events, &ev);
}

void wm_peer_path_update_all(struct wm_device *dev, uint64_t now)
{
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		wm_peer_path_update(dev, p, now);
}

void wm_peer_path_alive(struct wm_peer *p, uint64_t now)
{
	if (!p->first_heard_ns)
		p->first_heard_ns = now;
}

void wm_peer_path_heard(struct wm_device *dev, struct wm_peer *p,
			const union wm_sockaddr *src, uint64_t now)
{
	wm_peer_path_alive(p, now);
	p->path.wg_rx_ns = now;
	if (src) {
		wm_peer_set_endpoint(p, src, WM_EP_ROAMED);
		p->path.direct_rx_ns = now;
		p->wg_direct_rx_ns = now;
		p->rx_direct_ns = now;
	} else {
		p->path.relay_rx_ns = now;
		p->rx_relay_ns = now;
	}
	wm_peer_path_update(dev, p, now);
}

void wm_peer_path_relay_frame(struct wm_device *dev, struct wm_peer *p,
			      int relay, uint64_t now)
{
	(void)now;
	p->relay_gone[relay] = 0;
	if (p->relay != relay && wm_relays_up(dev->relays, relay))
		p->relay = relay;
}

void wm_peer_path_gone(struct wm_device *dev, struct wm_peer *p, int relay,
		       uint64_t now)
{
	p->relay_gone[relay] = now ? now : 1;
	/* Another relay may have the peer; only when none is left does the
	 * path rule hear "gone" (nat/path.h). */
	if (pick_relay(dev, p, now))
		p->path.relay_gone_ns = now;
	wm_peer_path_update(dev, p, now);
}

void wm_peer_path_rehome(struct wm_device *dev, uint64_t now)
{
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		p->relay = -1;
	wm_peer_path_update_all(dev, now);
}

void wm_peer_path_set_mode(struct wm_device *dev, struct wm_peer *p,
			   enum wm_path_mode mode, uint64_t now)
{
	if (p->path_mode == mode)
		return;
	p->path_mode = mode;
	wm_discovery_reset(&p->disco);
	wm_peer_path_update(dev, p, now);
}
