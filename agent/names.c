/* See names.h. */
#include "agent/names.h"
#include "agent/nat/path.h"
#include "agent/peer.h"
#include "agent/wg/clock.h"

#include <errno.h>
#include <stdio.h>

int wm_names_resolve(void *ctx, const char *text, union wm_sockaddr *out)
{
	return wm_resolver_get(ctx, text, out, wm_now_ns());
}

static void apply(struct wm_device *dev, const struct wm_peer_config *pc)
{
	struct wm_peer *p = wm_device_find_peer(dev, pc->public_key);

	if (!p)
		return;
	/* As wm_device_sync_peers: a roamed endpoint that works stays. */
	if (!wm_peer_has_endpoint(p) || !p->path.direct_rx_ns)
		wm_peer_set_endpoint(p, &pc->endpoint, WM_EP_CONFIG);
}

/* The name now resolves elsewhere: the peer follows it, unless its
 * endpoint answers now (it roamed somewhere that works); then it is
 * asked again at every tick, and follows once that endpoint falls
 * silent. */
static void moved(struct wm_device *dev, struct wm_config *cfg,
		  struct wm_peer_config *pc, const union wm_sockaddr *addr,
		  uint64_t now)
{
	struct wm_peer *p = wm_device_find_peer(dev, pc->public_key);
	char from[WM_SOCKADDR_STRLEN], to[WM_SOCKADDR_STRLEN];

	if (p && wm_peer_has_endpoint(p) && wm_path_direct_live(&p->path, now))
		return;
	fprintf(stderr, "%s:%u: Endpoint: '%s' moved from %s to %s\n",
		cfg->path, pc->endpoint_line, pc->endpoint_text,
		wm_sockaddr_format(from, sizeof(from), &pc->endpoint),
		wm_sockaddr_format(to, sizeof(to), addr));
	pc->endpoint = *addr;
	if (p)
		wm_peer_set_endpoint(p, addr, WM_EP_CONFIG);
}

void wm_names_apply_endpoints(struct wm_resolver *r, struct wm_config *cfg,
			      struct wm_device *dev, uint64_t now)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct wm_peer_config *pc = &cfg->peers[i];
		union wm_sockaddr addr;
		int rc;

		if (!pc->endpoint_named)
			continue;
		rc = wm_resolver_get(r, pc->endpoint_text, &addr, now);
		if (rc == 0 && !pc->endpoint_unresolved) {
			if (!wm_sockaddr_equal(&addr, &pc->endpoint))
				moved(dev, cfg, pc, &addr, now);
		} else if (rc == 0) {
			pc->endpoint = addr;
			pc->has_endpoint = true;
			pc->endpoint_unresolved = false;
			apply(dev, pc);
		} else if (rc != -EAGAIN && !pc->endpoint_warned) {
			pc->endpoint_warned = true;
			fprintf(stderr, "%s:%u: Endpoint: cannot resolve '%s' "
				"yet (%s); retrying every %d s, the peer is "
				"reachable through the relay meanwhile\n",
				cfg->path, pc->endpoint_line, pc->endpoint_text,
				rc == -ENOENT ? "no such name, or no answer"
					      : "resolver table full",
				WM_RESOLVER_RETRY_S);
		}
	}
}
