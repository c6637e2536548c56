/* See path.h for the rules. */
#include "agent/nat/path.h"
#include "agent/wg/clock.h"

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

static bool recent(uint64_t t, uint64_t now, unsigned secs)
{
	return t && wm_since(now, t) < SEC(secs);
}

bool wm_path_direct_proven(const struct wm_path_state *s, uint64_t now_ns)
{
	return recent(s->direct_rx_ns, now_ns, WM_DIRECT_TRUST_S);
}

bool wm_path_direct_live(const struct wm_path_state *s, uint64_t now_ns)
{
	return recent(s->direct_rx_ns, now_ns,
		      s->disco_rx_ns ? WM_DIRECT_TRUST_S : WM_DIRECT_LIVE_WG_S);
}

static bool relay_silent(const struct wm_path_state *s, uint64_t now_ns)
{
	return s->relay_tx_since && s->wg_rx_ns < s->relay_tx_since &&
	       wm_since(now_ns, s->relay_tx_since) >= SEC(WM_RELAY_SILENT_S);
}

enum wm_via wm_path_shown(const struct wm_path_state *s, enum wm_via via,
			  uint64_t now_ns)
{
	if (via == WM_VIA_DIRECT && !wm_path_direct_live(s, now_ns))
		return WM_VIA_NONE;
	if (via == WM_VIA_RELAY && relay_silent(s, now_ns))
		return WM_VIA_NONE;
	return via;
}

void wm_path_relay_sent(struct wm_path_state *s, uint64_t now_ns)
{
	/* The clock runs from the first send nothing has answered yet. */
	if (!s->relay_tx_since || s->wg_rx_ns >= s->relay_tx_since)
		s->relay_tx_since = now_ns ? now_ns : 1;
}

enum wm_via wm_path_choose(const struct wm_path_state *s,
			   enum wm_path_mode mode, bool has_endpoint,
			   bool relay_up, uint64_t now_ns)
{
	bool gone;

	switch (mode) {
	case WM_PATH_RELAY:
		return relay_up ? WM_VIA_RELAY : WM_VIA_NONE;
	case WM_PATH_DIRECT:
		return has_endpoint ? WM_VIA_DIRECT : WM_VIA_NONE;
	case WM_PATH_AUTO:
		break;
	}
	if (has_endpoint && wm_path_direct_proven(s, now_ns))
		return WM_VIA_DIRECT;
	/* The relay's "gone" only matters when there is somewhere else to
	 * try (a plain WireGuard peer with an endpoint); heard from since,
	 * it is void. */
	gone = recent(s->relay_gone_ns, now_ns, WM_RELAY_GONE_HOLD_S) &&
	       s->relay_rx_ns < s->relay_gone_ns;
	if (relay_up && !(gone && has_endpoint))
		return WM_VIA_RELAY;
	return has_endpoint ? WM_VIA_DIRECT : WM_VIA_NONE;
}

bool wm_path_probe_direct(const struct wm_path_state *s,
			  enum wm_path_mode mode, bool has_endpoint,
			  uint64_t now_ns)
{
	return mode == WM_PATH_AUTO && has_endpoint &&
	       !wm_path_direct_proven(s, now_ns);
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
