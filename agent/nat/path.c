/* See path.h for the rules. */
#include "agent/wg/clock.h"
#include "agent/nat/path.h"
#include "agent/device.h"
#include "agent/relay/client.h"

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

static bool recent(uint64_t t, uint64_t now, unsigned secs)
{
	return t && wm_since(now, t) < SEC(secs);
}

static bool has_endpoint(const struct wm_peer *p)
{
	return p->endpoint.sa.sa_family != AF_UNSPEC;
}

enum wm_via wm_path_choose(const struct wm_peer *p, bool relay_up,
			   uint64_t now_ns)
{
	bool gone;

	switch (p->path_mode) {
	case WM_PATH_RELAY:
		return relay_up ? WM_VIA_RELAY : WM_VIA_NONE;
	case WM_PATH_DIRECT:
		return has_endpoint(p) ? WM_VIA_DIRECT : WM_VIA_NONE;
	case WM_PATH_AUTO:
		break;
	}
	if (has_endpoint(p) && recent(p->direct_rx_ns, now_ns, WM_DIRECT_TRUST_S))
		return WM_VIA_DIRECT;
	/* The relay's "gone" only matters when there is somewhere else to
	 * try (a plain WireGuard peer with an endpoint); heard from since,
	 * it is void. */
	gone = recent(p->relay_gone_ns, now_ns, WM_RELAY_GONE_HOLD_S) &&
	       p->relay_rx_ns < p->relay_gone_ns;
	if (relay_up && !(gone && has_endpoint(p)))
		return WM_VIA_RELAY;
	return has_endpoint(p) ? WM_VIA_DIRECT : WM_VIA_NONE;
}

bool wm_path_probe_direct(const struct wm_peer *p, uint64_t now_ns)
{
	return p->path_mode == WM_PATH_AUTO && has_endpoint(p) &&
	       !recent(p->direct_rx_ns, now_ns, WM_DIRECT_TRUST_S);
}

const char *wm_via_name(enum wm_via v)
{
	switch (v) {
	case WM_VIA_DIRECT: return "direct";
	case WM_VIA_RELAY: return "relay";
	case WM_VIA_NONE: break;
	}
	return "none";
}

void wm_path_update(struct wm_peer *p, uint64_t now_ns)
{
	struct wm_device *dev = p->dev;
	enum wm_via v = wm_path_choose(p, wm_relay_client_up(dev->relay), now_ns);
	int old = p->last_via;

	if ((int)v == old)
		return;
	p->last_via = (int)v;
	if (dev->hooks.path_changed)
		dev->hooks.path_changed(dev->hooks.ctx, p, old, (int)v);
}
